/*
 * The alert prefilter.  Most rules name words that must appear in what
 * they match ("segfault|kernel panic", "ERROR [0-9]{3,}"), and looking for
 * words is cheaper than running a rule's regular expression: one scan looks
 * for the words of every rule at once, and only the rules whose words are
 * there are run.
 *
 * pf_literals reads a pattern's top level only: its alternatives, and in
 * each the longest run of plain characters none of which is optional.
 * Whatever it does not fully understand (option settings, \Q, verbs,
 * comments, escapes taking an argument, non-ASCII) makes it give up, and
 * the rule is then tried on every record: a mistake here would lose alerts,
 * a refusal only costs time.
 *
 * pf_scan looks for one byte pair of each literal, all the pairs at once
 * through nibble tables, 16 positions at a time with SSSE3 or 32 with
 * AVX2, and compares the whole literal where a pair may be.
 */
#include <string.h>

#ifdef __SSE2__
#include <immintrin.h>
#endif

#include "daemon/alert/prefilter.h"

/* Escapes that take no argument and match no literal text. */
#define PLAIN_ESCAPES	"dDwWsSbBhHvVRXAzZGKntrfea"

/* The run of plain characters being read, and the longest one so far. */
struct run {
	char	 s[PF_LIT_MAX + 1];
	size_t	 len;
	char	 best[PF_LIT_MAX + 1];
	size_t	 bestlen;
};

static void
run_add(struct run *r, char c)
{
	if (r->len < PF_LIT_MAX)	/* a prefix of a literal is one too */
		r->s[r->len++] = c;
}

static void
run_end(struct run *r)
{
	if (r->len > r->bestlen) {
		memcpy(r->best, r->s, r->len);
		r->best[r->len] = '\0';
		r->bestlen = r->len;
	}
	r->len = 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Constructs that change how the rest is read, anywhere in the pattern:
 * \Q...\E, \E, \cX (whose X may be a parenthesis), verbs such as (*ACCEPT),
 * comments, option settings (?i) (?x) (?-s) (?^).  (?P<name>, (?P=name)
 * and (?P>name) are plain groups.
 */
static int
risky(const char *p)
{
	for (; *p != '\0'; p++) {
		if (p[0] == '\\') {
			if (p[1] == 'Q' || p[1] == 'E' || p[1] == 'c')
				return 1;
			if (p[1] != '\0')
				p++;
			continue;
		}
		if (p[0] != '(')
			continue;
		if (p[1] == '*')
			return 1;
		if (p[1] == '?' && (p[2] == '#' || p[2] == '^' || p[2] == '-' ||
		    (is_alnum(p[2]) && !is_digit(p[2]) && p[2] != 'P')))
			return 1;
	}
	return 0;
}

/*
 * The quantifier at P, if any: its length (0 for none) into *LEN, and
 * whether it allows no repeat at all into *OPTIONAL.  Returns -1 for a
 * brace that is not plainly {m}, {m,} or {m,n}: PCRE2 versions disagree
 * on some of those, so they are not guessed at.
 */
static int
quantifier(const char *p, size_t *len, int *optional)
{
	const char *q = p + 1;
	int nonzero = 0;

	*optional = 0;
	switch (*p) {
	case '?':
	case '*':
		*optional = 1;
		break;
	case '+':
		break;
	case '{':
		if (!is_digit(*q))
			return -1;
		for (; is_digit(*q); q++)
			nonzero |= *q != '0';
		if (*q == ',')
			for (q++; is_digit(*q); q++)
				;
		if (*q++ != '}')
			return -1;
		*optional = !nonzero;
		break;
	default:
		*len = 0;
		return 0;
	}
	if (*q == '?' || *q == '+')	/* lazy, possessive */
		q++;
	*len = (size_t)(q - p);
	return 0;
}

/* P is at '[': past the class's ']', or NULL. */
static const char *
skip_class(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')			/* first: a plain ']' */
		p++;
	for (;;) {
		switch (*p) {
		case '\0':
			return NULL;
		case '\\':
			if (p[1] == '\0')
				return NULL;
			p += 2;
			break;
		case '[':
			/* [:alpha:] and kin: where they end is subtle. */
			if (p[1] == ':' || p[1] == '.' || p[1] == '=')
				return NULL;
			p++;
			break;
		case ']':
			return p + 1;
		default:
			p++;
		}
	}
}

/* P is at '(': past the matching ')', or NULL. */
static const char *
skip_group(const char *p)
{
	int depth = 0;

	for (;;) {
		switch (*p) {
		case '\0':
			return NULL;
		case '\\':
			if (p[1] == '\0')
				return NULL;
			p += 2;
			continue;
		case '[':
			if ((p = skip_class(p)) == NULL)
				return NULL;
			continue;
		case '(':
			depth++;
			break;
		case ')':
			if (--depth == 0)
				return p + 1;
			break;
		}
		p++;
	}
}

/* The plain character C, read just before P: in the run, unless its
 * quantifier makes it optional.  Past the quantifier, or NULL if unsure. */
static const char *
literal(const char *p, char c, struct run *r)
{
	size_t qlen;
	int optional;

	if (quantifier(p, &qlen, &optional) == -1)
		return NULL;
	if (qlen == 0) {
		run_add(r, c);
		return p;
	}
	if (!optional)		/* c+, c{2,}: c is there, then a gap */
		run_add(r, c);
	run_end(r);
	return p + qlen;
}

/* One element of an alternative, at P: past it, or NULL if unsure. */
static const char *
element(const char *p, struct run *r)
{
	size_t qlen;
	int optional;
	char c = *p;

	switch (c) {
	case '(':
		p = skip_group(p);
		break;
	case '[':
		p = skip_class(p);
		break;
	case '.':
	case '^':
	case '$':
		p++;
		break;
	case '\\':
		c = p[1];
		if ((unsigned char)c >= 0x80 || c == '\0' ||
		    (is_alnum(c) && strchr(PLAIN_ESCAPES, c) == NULL))
			return NULL;
		if (is_alnum(c)) {
			p += 2;
			break;
		}
		return literal(p + 2, c, r);	/* \. \* \\ ... */
	case ')':
	case '*':
	case '+':
	case '?':
	case '{':
		return NULL;		/* nothing to repeat: unsure */
	default:
		if ((unsigned char)c >= 0x80)
			return NULL;
		return literal(p + 1, c, r);
	}
	/* Not a plain character: it ends the run, quantifier too. */
	run_end(r);
	if (p == NULL || quantifier(p, &qlen, &optional) == -1)
		return NULL;
	return p + qlen;
}

int
pf_literals(const char *pattern, char (*out)[PF_LIT_MAX + 1], int max)
{
	struct run r;
	const char *p = pattern;
	int n = 0;

	if (risky(pattern))
		return 0;
	r.len = r.bestlen = 0;
	for (;;) {
		if (*p != '\0' && *p != '|') {
			if ((p = element(p, &r)) == NULL)
				return 0;
			continue;
		}
		/* An alternative ends: its best run is its literal. */
		run_end(&r);
		if (r.bestlen < 2 || n == max)
			return 0;
		memcpy(out[n++], r.best, r.bestlen + 1);
		r.bestlen = 0;
		if (*p++ == '\0')
			return n;
	}
}

/* How rarely C shows in log text, roughly: the pair scanned for is the
 * rarest one of a literal, so that it is seldom found for nothing. */
static int
rarity(unsigned char c)
{
	if (c == ' ')
		return 0;
	if (c >= 'a' && c <= 'z')
		return strchr("etaoinshrdlu", c) != NULL ? 1 : 2;
	if (is_digit((char)c))
		return 1;
	return 3;			/* capitals, punctuation */
}

static uint8_t
rarest_pair(const char *s, size_t len)
{
	size_t i, at = 0;
	int score, best = -1;

	for (i = 0; i + 1 < len; i++) {
		score = rarity((unsigned char)s[i]) +
		    rarity((unsigned char)s[i + 1]);
		if (score > best) {
			best = score;
			at = i;
		}
	}
	return (uint8_t)at;
}

void
pf_init(struct prefilter *pf)
{
	memset(pf, 0, sizeof(*pf));
#ifdef __SSE2__
	pf->avx2 = __builtin_cpu_supports("avx2");
	pf->ssse3 = __builtin_cpu_supports("ssse3");
#endif
}

static void
add_pair(struct prefilter *pf, const char *two)
{
	uint8_t bit;
	int i, k, n;

	for (i = 0; i < pf->npair; i++)
		if (memcmp(pf->pair[i], two, 2) == 0)
			return;
	memcpy(pf->pair[i], two, 2);
	bit = (uint8_t)(1u << (i % 8));
	for (k = 0; k < 4; k++) {
		n = (unsigned char)two[k / 2] >> (k % 2 ? 4 : 0) & 15;
		pf->nib[k][n] |= bit;
		pf->nib[k][n + 16] |= bit;
	}
	pf->npair++;
}

int
pf_add(struct prefilter *pf, int rule, const char *pattern)
{
	char lits[PF_MAX_LITS][PF_LIT_MAX + 1];
	struct pf_lit *l;
	size_t len;
	int i, j, n;

	if (rule < 0 || rule >= PF_MAX_RULES)
		return 0;
	n = pf_literals(pattern, lits, PF_MAX_LITS - pf->nlit);
	if (n == 0) {
		pf->always |= 1u << rule;
		return 0;
	}
	for (i = 0; i < n; i++) {
		len = strlen(lits[i]);
		for (j = 0; j < pf->nlit; j++)
			if (pf->lit[j].len == len &&
			    memcmp(pf->lit[j].s, lits[i], len) == 0)
				break;
		l = &pf->lit[j];
		if (j == pf->nlit) {
			memcpy(l->s, lits[i], len);
			l->len = (uint8_t)len;
			l->at = rarest_pair(l->s, len);
			add_pair(pf, l->s + l->at);
			pf->nlit++;
		}
		l->rules |= 1u << rule;
	}
	return 1;
}

/* A byte pair was found at POS of S: whose literals are there? */
static uint32_t
verify(const struct prefilter *pf, const char *s, size_t len, size_t pos,
    uint32_t found)
{
	const struct pf_lit *l;
	int i;

	for (i = 0; i < pf->nlit; i++) {
		l = &pf->lit[i];
		if ((found & l->rules) == l->rules || s[pos] != l->s[l->at] ||
		    s[pos + 1] != l->s[l->at + 1] || pos < l->at ||
		    pos - l->at + l->len > len)
			continue;
		if (memcmp(s + pos - l->at, l->s, l->len) == 0)
			found |= l->rules;
	}
	return found;
}

uint32_t
pf_scan_slow(const struct prefilter *pf, const char *s, size_t len)
{
	uint32_t found = pf->always;
	size_t pos;

	for (pos = 0; pos + 1 < len; pos++)
		found = verify(pf, s, len, pos, found);
	return found;
}

#ifdef __SSE2__
/* The positions of a block of WIDTH where one of the pairs starts. */
typedef uint32_t block_fn(const struct prefilter *, const char *);

/* 16 positions at once, as block_avx2() below. */
__attribute__((target("ssse3"))) static uint32_t
block_ssse3(const struct prefilter *pf, const char *at)
{
	const __m128i low = _mm_set1_epi8(0x0f);
	__m128i t[4], a, b, first, second;
	int k;

	for (k = 0; k < 4; k++)
		t[k] = _mm_loadu_si128((const __m128i *)(const void *)
		    pf->nib[k]);
	a = _mm_loadu_si128((const __m128i *)(const void *)at);
	b = _mm_loadu_si128((const __m128i *)(const void *)(at + 1));
	first = _mm_and_si128(_mm_shuffle_epi8(t[0], _mm_and_si128(a, low)),
	    _mm_shuffle_epi8(t[1], _mm_and_si128(_mm_srli_epi16(a, 4), low)));
	second = _mm_and_si128(_mm_shuffle_epi8(t[2], _mm_and_si128(b, low)),
	    _mm_shuffle_epi8(t[3], _mm_and_si128(_mm_srli_epi16(b, 4), low)));
	return ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_and_si128(first, second), _mm_setzero_si128())) & 0xffff;
}

/*
 * 32 positions at once, for all the pairs together: the nibble tables
 * give, for each byte, the buckets of the pairs it could start (and, one
 * byte on, end); a position whose two sets meet is a candidate.  Pairs of
 * one bucket mix their nibbles, so some candidates are not pairs:
 * verify() settles each.
 */
__attribute__((target("avx2"))) static uint32_t
block_avx2(const struct prefilter *pf, const char *at)
{
	const __m256i low = _mm256_set1_epi8(0x0f);
	__m256i t[4], a, b, first, second;
	int k;

	for (k = 0; k < 4; k++)
		t[k] = _mm256_loadu_si256((const __m256i *)(const void *)
		    pf->nib[k]);
	a = _mm256_loadu_si256((const __m256i *)(const void *)at);
	b = _mm256_loadu_si256((const __m256i *)(const void *)(at + 1));
	first = _mm256_and_si256(
	    _mm256_shuffle_epi8(t[0], _mm256_and_si256(a, low)),
	    _mm256_shuffle_epi8(t[1],
	    _mm256_and_si256(_mm256_srli_epi16(a, 4), low)));
	second = _mm256_and_si256(
	    _mm256_shuffle_epi8(t[2], _mm256_and_si256(b, low)),
	    _mm256_shuffle_epi8(t[3],
	    _mm256_and_si256(_mm256_srli_epi16(b, 4), low)));
	return ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
	    _mm256_and_si256(first, second), _mm256_setzero_si256()));
}

/*
 * WIDTH positions at a time: a block compares the bytes at p.. and those
 * at p+1.. with every pair.  A string shorter than WIDTH + 1 bytes is read
 * from a zeroed copy (no literal holds a NUL); the last block may overlap
 * the one before it.
 */
static inline __attribute__((always_inline)) uint32_t
scan_blocks(const struct prefilter *pf, const char *s, size_t len,
    size_t width, block_fn *block)
{
	const char *b = s;
	char pad[64];
	size_t p, last, k;
	uint32_t found = pf->always, m;

	if (len < width + 1) {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, s, len);
		b = pad;
		last = 0;
	} else
		last = len - width - 1;
	for (p = 0;; p += width) {
		if (p > last)
			p = last;
		for (m = block(pf, b + p); m != 0; m &= m - 1) {
			k = p + (size_t)__builtin_ctz(m);
			if (k + 1 < len)
				found = verify(pf, s, len, k, found);
		}
		if (p == last)
			return found;
	}
}

/* The scan with its block inlined, compiled for each instruction set. */
__attribute__((target("avx2"))) static uint32_t
scan_avx2(const struct prefilter *pf, const char *s, size_t len)
{
	return scan_blocks(pf, s, len, 32, block_avx2);
}

__attribute__((target("ssse3"))) static uint32_t
scan_ssse3(const struct prefilter *pf, const char *s, size_t len)
{
	return scan_blocks(pf, s, len, 16, block_ssse3);
}

uint32_t
pf_scan(const struct prefilter *pf, const char *s, size_t len)
{
	if (pf->nlit == 0 || len < 2)
		return pf->always;
	if (pf->avx2)
		return scan_avx2(pf, s, len);
	if (pf->ssse3)
		return scan_ssse3(pf, s, len);
	return pf_scan_slow(pf, s, len);
}
#else
uint32_t
pf_scan(const struct prefilter *pf, const char *s, size_t len)
{
	return pf_scan_slow(pf, s, len);
}
#endif
