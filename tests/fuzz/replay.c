/* Replays a fuzz corpus through a libFuzzer target as an ordinary test: every file in the
 * directories (or files) named on the command line is fed to LLVMFuzzerTestOneInput once.
 * A crash, a sanitizer report or a leak fails the test, exactly as in the fuzzer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_FILE_MAX (16U << 20)

static int replay_file(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t done = 0;

        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "replay: cannot read '%s': %m\n", path);
                return -errno;
        }
        if ((size_t) st.st_size > REPLAY_FILE_MAX) {
                fprintf(stderr, "replay: '%s' is larger than %u bytes\n", path, REPLAY_FILE_MAX);
                return -EFBIG;
        }
        buf = malloc(st.st_size ?: 1);
        if (!buf)
                return -ENOMEM;
        while (done < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + done, st.st_size - done);
                if (k <= 0) {
                        fprintf(stderr, "replay: short read on '%s'\n", path);
                        return -EIO;
                }
                done += k;
        }
        LLVMFuzzerTestOneInput(buf, done);
        return 0;
}


int main(int argc, char **argv) {
        unsigned n = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "replay: '%s': %m\n", argv[i]);
                        return EXIT_FAILURE;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (replay_file(argv[i]) < 0)
                                return EXIT_FAILURE;
                        n++;
                        continue;
                }
                struct dirent **names;
                int k = scandir(argv[i], &names, NULL, alphasort);
                if (k < 0) {
                        fprintf(stderr, "replay: '%s': %m\n", argv[i]);
                        return EXIT_FAILURE;
                }
                for (int j = 0; j < k; j++) {
                        char path[4096];
                        if (names[j]->d_name[0] != '.') {
                                snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
                                if (replay_file(path) < 0)
                                        return EXIT_FAILURE;
                                n++;
                        }
                        free(names[j]);
                }
                free(names);
        }
        if (n == 0) {
                fprintf(stderr, "replay: no corpus files found: the corpus must not be empty\n");
                return EXIT_FAILURE;
        }
        printf("replayed %u corpus files\n", n);
        return EXIT_SUCCESS;
}
