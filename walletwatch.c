/* walletwatch.c - command line (placeholder until the CLI lands). */
#include "util/ww.h"

int main(void)
{
    printf("walletwatch %s\n", WW_VERSION);
    return 0;
}
