// heapsnap: the command line (cli_main.h).
#include "cli_main.h"

int main(int argc, char** argv) { return heapsnap::cli::Main(argc, argv); }
