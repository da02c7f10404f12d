/* SPDX-License-Identifier: Apache-2.0 */

/* Being written. */
int main(void)
{
        return 77;
}
