/* Replays fuzz inputs without libFuzzer: every file named on the command line,
 * or every file inside a directory named there, is fed once to
 * LLVMFuzzerTestOneInput. Seed corpora and crash reproducers thus run as
 * ordinary regression tests (meson suite 'fuzz-replay'). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		fprintf(stderr, "%s: read failed\n", path);
		fclose(f);
		free(buf);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, errors = 0;
	for (int i = 1; i < argc; i++) {
		struct stat stt;
		if (stat(argv[i], &stt) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(stt.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				if (de->d_name[0] == '.')
					continue;
				char p[4096];
				snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
				errors += run_file(p);
				files++;
			}
			if (d)
				closedir(d);
		} else {
			errors += run_file(argv[i]);
			files++;
		}
	}
	printf("replayed %d inputs, %d unreadable\n", files, errors);
	return (errors || files == 0) ? 1 : 0;
}
