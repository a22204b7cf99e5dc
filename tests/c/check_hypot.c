/* Prints a, b, wi_hypot(a, b) as hex floats for pairs read from stdin (hex floats,
 * one pair a line): tests/test_hypot.py checks them exactly against rational
 * arithmetic. */
#include <stdio.h>
#include <stdlib.h>
#include "wi_hypot.h"

int main(void) {
    char sa[64], sb[64];
    while (scanf("%63s %63s", sa, sb) == 2) {
        double a = strtod(sa, NULL), b = strtod(sb, NULL);
        printf("%a %a %a\n", a, b, wi_hypot(a, b));
    }
    return 0;
}
