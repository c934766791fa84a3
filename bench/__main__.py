from bench.run import main

if __name__ == "__main__":  # Dask worker processes import this module again
    main()
