from tastemaker.cli import main

main()
