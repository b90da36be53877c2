from klezguard.cli import main

if __name__ == "__main__":  # a helper process started by multiprocessing imports this module again
    raise SystemExit(main())
