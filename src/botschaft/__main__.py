from botschaft.cli import main

main()
