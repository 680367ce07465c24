/* test_output — tools/common/output.c: a regular file is replaced whole or
 * not at all (temporary file + rename, mode kept); a device, a FIFO or a
 * symlink is written through and never replaced; errors name the path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output.h"

static char g_dir[64];

static int setup(void **state)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/vkgrm-output-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd);
}

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", g_dir, name); }

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *get_file(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int entries(void) /* files in g_dir: no temporary file may be left */
{
    DIR *d = opendir(g_dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.' || strlen(e->d_name) > 2;
    closedir(d);
    return n;
}

static void test_regular_file_replaced_atomically(void **state)
{
    char p[256];
    path_in(p, sizeof p, "out.bin");
    put_file(p, "old");
    chmod(p, 0640);
    struct stat before, after;
    stat(p, &before);
    struct vkg_out o;
    assert_int_equal(vkg_out_open(p, &o), VKG_OK);
    assert_non_null(o.tmp);
    assert_int_equal(vkg_out_write(&o, "new!", 4), VKG_OK);
    assert_string_equal(get_file(p), "old"); /* nothing visible before the commit */
    assert_int_equal(vkg_out_commit(&o), VKG_OK);
    assert_string_equal(get_file(p), "new!");
    stat(p, &after);
    assert_int_equal(after.st_mode & 07777, 0640);
    assert_true(after.st_ino != before.st_ino); /* a new file renamed into place */
    assert_int_equal(entries(), 1);
    /* abort: the old file stays, the temporary file goes */
    assert_int_equal(vkg_out_open(p, &o), VKG_OK);
    assert_int_equal(vkg_out_write(&o, "half", 4), VKG_OK);
    vkg_out_abort(&o);
    vkg_out_abort(&o); /* twice is harmless */
    assert_string_equal(get_file(p), "new!");
    assert_int_equal(entries(), 1);
    /* a path that does not exist yet */
    path_in(p, sizeof p, "fresh.bin");
    assert_int_equal(vkg_out_open(p, &o), VKG_OK);
    fprintf(o.f, "x=%d", 7);
    assert_int_equal(vkg_out_commit(&o), VKG_OK);
    assert_string_equal(get_file(p), "x=7");
    assert_int_equal(entries(), 2);
}

static void test_write_through(void **state)
{
    struct vkg_out o;
    struct stat sb;
    /* a character device: written, not replaced */
    assert_int_equal(vkg_out_open("/dev/null", &o), VKG_OK);
    assert_null(o.tmp);
    assert_int_equal(vkg_out_write(&o, "abc", 3), VKG_OK);
    assert_int_equal(vkg_out_commit(&o), VKG_OK);
    assert_int_equal(stat("/dev/null", &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
    /* a symlink: its target gets the data, the link stays a link */
    char target[256], link[256];
    path_in(target, sizeof target, "target.txt");
    path_in(link, sizeof link, "link.txt");
    put_file(target, "old");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(vkg_out_open(link, &o), VKG_OK);
    assert_int_equal(vkg_out_write(&o, "through", 7), VKG_OK);
    assert_int_equal(vkg_out_commit(&o), VKG_OK);
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_string_equal(get_file(target), "through");
    /* a FIFO: a reader gets the bytes, the FIFO stays a FIFO */
    char fifo[256];
    path_in(fifo, sizeof fifo, "pipe");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    if (pid == 0) { /* the reader: exit status = bytes read */
        int fd = open(fifo, O_RDONLY);
        char buf[64];
        ssize_t n = 0, r;
        while ((r = read(fd, buf, sizeof buf)) > 0) n += r;
        _exit((int)n);
    }
    assert_int_equal(vkg_out_open(fifo, &o), VKG_OK);
    assert_int_equal(vkg_out_write(&o, "0123456789", 10), VKG_OK);
    assert_int_equal(vkg_out_commit(&o), VKG_OK);
    int status = 0;
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 10);
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
}

static void test_errors_name_the_path(void **state)
{
    struct vkg_out o;
    assert_int_equal(vkg_out_open(g_dir, &o), VKG_ERR_IO);
    assert_non_null(strstr(vkg_error_detail(), "is a directory"));
    char p[256];
    path_in(p, sizeof p, "no-such-dir/out.bin");
    assert_int_equal(vkg_out_open(p, &o), VKG_ERR_IO);
    assert_non_null(strstr(vkg_error_detail(), p));
    assert_non_null(strstr(vkg_error_detail(), "No such file or directory"));
    /* a full device: the error names the path and ENOSPC's text */
    assert_int_equal(vkg_out_open("/dev/full", &o), VKG_OK);
    char big[1 << 16] = { 0 };
    enum vkg_status s = vkg_out_write(&o, big, sizeof big);
    if (s == VKG_OK) s = vkg_out_commit(&o);
    else vkg_out_abort(&o);
    assert_int_equal(s, VKG_ERR_IO);
    assert_non_null(strstr(vkg_error_detail(), "/dev/full: write failed: No space left on device"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_regular_file_replaced_atomically, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
