from datacomp.cli import main

main()
