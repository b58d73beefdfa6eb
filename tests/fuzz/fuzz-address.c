/* Fuzzes the listen address parser: whatever it accepts must format to text that parses back
 * to the same address and formats identically; whatever it refuses must come with a printable
 * message that was not cut short. Host names are never resolved here (no DNS while fuzzing). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/address.h"
#include "common/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer than ADDRESS_TEXT_MAX, so the length check is reached, but bounded. */
#define FUZZ_INPUT_MAX 4096


static void check_message(const char *err) {
        size_t n = strnlen(err, ADDRESS_ERROR_MAX);

        if (n == 0 || n >= ADDRESS_ERROR_MAX - 1) {
                fprintf(stderr, "message empty or cut: \"%.*s\"\n", (int) n, err);
                abort();
        }
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) err[i] < 0x20 || (unsigned char) err[i] >= 0x7f) {
                        fprintf(stderr, "unprintable byte in message: \"%s\"\n", err);
                        abort();
                }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char text[FUZZ_INPUT_MAX + 1], err[ADDRESS_ERROR_MAX], buf[ADDRESS_FORMAT_MAX];
        char buf2[ADDRESS_FORMAT_MAX], sbuf[ADDRESS_FORMAT_MAX];
        ListenAddress a, b;
        int r;

        size = MIN(size, (size_t) FUZZ_INPUT_MAX);
        memcpy(text, data, size);
        text[size] = '\0';

        err[0] = '\0';
        r = address_parse(text, &a, err, sizeof(err));
        if (r < 0) {
                if (r != -EINVAL)
                        abort();
                check_message(err);
                return 0;
        }

        address_format(&a, buf, sizeof(buf));
        r = address_parse(buf, &b, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "'%s' formats as '%s', which does not parse: %s\n", text, buf,
                        err);
                abort();
        }
        address_format(&b, buf2, sizeof(buf2));
        if (!streq(buf, buf2) || !address_equal(&a, &b)) {
                fprintf(stderr, "round trip of '%s' differs: '%s' then '%s'\n", text, buf, buf2);
                abort();
        }

        {
                SockAddr sa;

                address_sockaddr(&a, &sa);
                sockaddr_format(&sa, sbuf, sizeof(sbuf));
        }
        (void) address_is_inet(&a);
        (void) address_is_unix(&a);
        if (!address_kind_to_string(a.kind))
                abort();

        if (a.kind != ADDRESS_HOSTNAME) {
                _cleanup_free_ SockAddr *list = NULL;
                int n = address_resolve(&a, &list, err, sizeof(err));

                if (n < 1 || n > 2)
                        abort();
                for (int i = 0; i < n; i++)
                        sockaddr_format(&list[i], sbuf, sizeof(sbuf));
        }
        address_done(&a);
        address_done(&b);
        return 0;
}
