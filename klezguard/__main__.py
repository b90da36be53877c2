from klezguard.cli import main

raise SystemExit(main())
