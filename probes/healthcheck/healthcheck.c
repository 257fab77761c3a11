/* healthcheck: the static health probe of recipe's distroless images. An image's Healthcheck
   runs it in exec form (there is no shell):

     healthcheck http PORT PATH   GET http://127.0.0.1:PORT/PATH: healthy on a 2xx or 3xx status
     healthcheck tcp PORT         connect to 127.0.0.1:PORT: healthy when it accepts
     healthcheck --version

   Exit 0 healthy, 1 unhealthy, 2 bad arguments. Every wait is bounded (5 s). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define VERSION "1.0"

static void usage(void) {
    fputs("usage: healthcheck http PORT PATH | healthcheck tcp PORT | healthcheck --version\n",
          stderr);
    exit(2);
}

static int connect_port(const char *port_s) {
    char *end;
    long port = strtol(port_s, &end, 10);
    if (*port_s == '\0' || *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "healthcheck: `%s` is not a port (1-65535)\n", port_s);
        exit(2);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        fprintf(stderr, "healthcheck: socket: %s\n", strerror(errno));
        exit(1);
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        fprintf(stderr, "unhealthy: connect 127.0.0.1:%ld: %s\n", port, strerror(errno));
        exit(1);
    }
    return fd;
}

static int http(const char *port, const char *path) {
    if (path[0] != '/' || strpbrk(path, "\r\n ") != NULL || strlen(path) > 2048) {
        fprintf(stderr, "healthcheck: `%s` is not an absolute HTTP path\n", path);
        return 2;
    }
    int fd = connect_port(port);
    char req[2300];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nUser-Agent: recipe-healthcheck/"
                     VERSION "\r\nConnection: close\r\n\r\n",
                     path, port);
    for (int off = 0; off < n;) {
        ssize_t w = write(fd, req + off, (size_t)(n - off));
        if (w <= 0) {
            fprintf(stderr, "unhealthy: sending the request: %s\n", strerror(errno));
            return 1;
        }
        off += (int)w;
    }
    /* The status line: "HTTP/1.x NNN ...". */
    char buf[256];
    size_t got = 0;
    while (got < sizeof buf - 1 && memchr(buf, '\n', got) == NULL) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(fd);
    int status = 0;
    if (got < 12 || strncmp(buf, "HTTP/", 5) != 0 || sscanf(buf + 9, "%3d", &status) != 1) {
        fprintf(stderr, "unhealthy: no HTTP status line from 127.0.0.1:%s%s\n", port, path);
        return 1;
    }
    if (status >= 200 && status < 400) {
        printf("healthy: HTTP %d from 127.0.0.1:%s%s\n", status, port, path);
        return 0;
    }
    fprintf(stderr, "unhealthy: HTTP %d from 127.0.0.1:%s%s\n", status, port, path);
    return 1;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        puts("healthcheck " VERSION);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "http") == 0) return http(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "tcp") == 0) {
        close(connect_port(argv[2]));
        printf("healthy: 127.0.0.1:%s accepts connections\n", argv[2]);
        return 0;
    }
    usage();
    return 2;
}
