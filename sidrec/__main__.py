from sidrec.cli import main

raise SystemExit(main())
