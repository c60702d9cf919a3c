"""``python -m ovninspect`` and the ``ovninspect`` console script: a one-shot process, so
the cyclic garbage collector is off from the first import on (cli.main says why)."""

import gc


def main() -> None:
    gc.disable()  # before the imports too: they build many objects and no cycle is freed
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
