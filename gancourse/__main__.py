"""``python -m gancourse``: see gancourse.cli."""
import sys

try:
    from gancourse.cli import main  # imports torch: a second or more, Ctrl-C may land here

    sys.exit(main())
except KeyboardInterrupt:
    print("python -m gancourse: interrupted", file=sys.stderr)
    sys.exit(130)
