/*
 * Escaping of untrusted bytes (client input) before they reach a log file
 * or a terminal: the result is printable, valid UTF-8 and unambiguous.
 */
#include <stdint.h>
#include <string.h>

#include "common/escape.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH	1
static int use_avx2;		/* set at start-up where the CPU has it */
#endif

#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL

/*
 * Does any byte of the 8 in X need escaping (below 0x20, above 0x7e, or a
 * backslash)?  Exact, branch-free tests on a whole word at once.
 */
static inline int
word_needs_escape(uint64_t x)
{
	uint64_t below = (x - ONES * 0x20) & ~x & HIGHS;
	uint64_t above = ((x + ONES * (127 - 126)) | x) & HIGHS;
	uint64_t bs = x ^ (ONES * '\\');

	bs = (bs - ONES) & ~bs & HIGHS;
	return (below | above | bs) != 0;
}

#ifdef __SSE2__
/* One bit per byte of X that needs escaping, the same test on 16 bytes. */
static inline unsigned
block_needs_escape(__m128i x)
{
	/* Signed, "below 0x20" also holds for 0x80-0xff. */
	__m128i m = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));

	m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
	return (unsigned)_mm_movemask_epi8(m);
}
#endif

/*
 * Copy the bytes of S (LEN of them) that need no escaping, up to the first
 * one that does, to D; return how many.  D may receive up to LEN bytes in
 * all, some past the returned count: they are written over afterwards.
 */
static size_t
copy_plain(char *d, const unsigned char *s, size_t len)
{
	size_t i = 0;

#ifdef __SSE2__
	if (len >= 16) {
		__m128i x;
		unsigned m;

		for (; len - i >= 16; i += 16) {
			x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			_mm_storeu_si128((__m128i *)(void *)(d + i), x);
			if ((m = block_needs_escape(x)) != 0)
				return i + (size_t)__builtin_ctz(m);
		}
		if (i == len)
			return len;
		/*
		 * The last 16 bytes, overlapping what is done: those bytes
		 * were plain and are copied to the same places again.
		 */
		x = _mm_loadu_si128((const __m128i *)(const void *)
		    (s + len - 16));
		_mm_storeu_si128((__m128i *)(void *)(d + len - 16), x);
		m = block_needs_escape(x) >> (16 - (len - i));
		return m != 0 ? i + (size_t)__builtin_ctz(m) : len;
	}
#endif
	while (len - i >= 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if (word_needs_escape(w))
			break;
		memcpy(d + i, &w, 8);
		i += 8;
	}
	while (i < len && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
		d[i] = (char)s[i];
		i++;
	}
	return i;
}

#ifdef HAVE_AVX2_PATH
/* block_needs_escape() on 32 bytes. */
__attribute__((target("avx2"))) static inline unsigned
block32_needs_escape(__m256i x)
{
	__m256i m = _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), x);

	m = _mm256_or_si256(m, _mm256_cmpeq_epi8(x, _mm256_set1_epi8(0x7f)));
	m = _mm256_or_si256(m, _mm256_cmpeq_epi8(x, _mm256_set1_epi8('\\')));
	return (unsigned)_mm256_movemask_epi8(m);
}

/* copy_plain() 32 bytes at a time, for lines of 32 bytes or more. */
__attribute__((target("avx2"))) static inline size_t
copy_plain_avx2(char *d, const unsigned char *s, size_t len)
{
	__m256i x;
	unsigned bits;
	size_t i;

	for (i = 0; len - i >= 32; i += 32) {
		x = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
		_mm256_storeu_si256((__m256i *)(void *)(d + i), x);
		if ((bits = block32_needs_escape(x)) != 0)
			return i + (size_t)__builtin_ctz(bits);
	}
	if (i == len)
		return len;
	/* The last 32 bytes, overlapping, as copy_plain() does with 16. */
	x = _mm256_loadu_si256((const __m256i *)(const void *)(s + len - 32));
	_mm256_storeu_si256((__m256i *)(void *)(d + len - 32), x);
	bits = block32_needs_escape(x) >> (32 - (len - i));
	return bits != 0 ? i + (size_t)__builtin_ctz(bits) : len;
}

__attribute__((constructor)) static void
escape_init(void)
{
	__builtin_cpu_init();
	use_avx2 = __builtin_cpu_supports("avx2");
}
#endif

void
escape_simd(int avx2)
{
#ifdef HAVE_AVX2_PATH
	use_avx2 = avx2 && __builtin_cpu_supports("avx2");
#else
	(void)avx2;
#endif
}

static const char hex[] = "0123456789abcdef";

static char *
put_hex(char *d, unsigned char c)
{
	d[0] = '\\';
	d[1] = 'x';
	d[2] = hex[c >> 4];
	d[3] = hex[c & 15];
	return d + 4;
}

static int
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/*
 * Length of the valid UTF-8 sequence starting at S (LEN bytes left), or 0
 * if the bytes there do not form one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).
 */
static size_t
utf8_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (!is_cont(s[i]))
			return 0;
	return n;
}

/* Those of U+2000..U+203F, and of U+2040..U+207F: bit cp % 64. */
#define LIE_2000	(0x1fULL << 0x0b | 0x7fULL << 0x28)
#define LIE_2040	(1ULL << 0x20 | 0x0fULL << 0x26)

/*
 * Is the valid UTF-8 sequence at S (N bytes) a character that can make a
 * record lie when shown: a C1 control (U+0080..U+009F: CSI and friends),
 * a line or paragraph separator (U+2028, U+2029), a bidirectional control
 * (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), a zero-width
 * character (U+200B..U+200D, U+2060) or the BOM (U+FEFF)?  Without a
 * branch, so that text mixing scripts and punctuation pays no
 * misprediction; only non-ASCII comes here, plain runs never pay for it.
 */
static inline int
lies(const unsigned char *s, size_t n)
{
	static const uint64_t gp[2] = { LIE_2000, LIE_2040 };
	unsigned two = (unsigned)s[0] << 8 | s[1];
	unsigned last = s[n - 1];	/* s[2] if there is one */
	uint64_t in_gp = -(uint64_t)(two >> 1 == 0xe280 >> 1);

	return (two - 0xc280 < 0x20) | (two == 0xd89c) |
	    ((two == 0xefbb) & (last == 0xbf)) |
	    (int)((gp[two & 1] & in_gp) >> (last & 0x3f) & 1);
}

typedef size_t copy_fn(char *, const unsigned char *, size_t);

/*
 * Escape SRC (LEN bytes) into DST, stopping at the first newline if
 * AT_NL; *END is where it stopped.  COPY copies the plain runs: inlined
 * into escape_until() with copy_plain() and into escape_until_avx2()
 * with copy_wide(), each compiled for its own instructions.
 */
static inline __attribute__((always_inline)) size_t
escape_loop(char *dst, const char *src, size_t len, int at_nl, size_t *end,
    copy_fn *copy)
{
	const unsigned char *s = (const unsigned char *)src;
	char *d = dst;
	size_t i = 0, run, n;
	unsigned char c;

	while (i < len) {
		/* Fast path: a run of printable ASCII other than '\\'. */
		run = copy(d, s + i, len - i);
		d += run;
		i += run;
		if (i == len)
			break;
		c = s[i];
		if (c == '\\') {
			*d++ = '\\';
			*d++ = '\\';
			i++;
		} else if (c < 0x80) {
			if (at_nl && c == '\n')
				break;
			d = put_hex(d, c);
			i++;
		} else if ((n = utf8_len(s + i, len - i)) == 0) {
			d = put_hex(d, c);
			i++;
		} else if (lies(s + i, n)) {
			while (n-- > 0)
				d = put_hex(d, s[i++]);
		} else {
			/*
			 * One fixed-size move where S has 4 bytes left (D
			 * has room for 4 per byte of S): a byte past the
			 * character is written over next, or past the result.
			 */
			if (len - i >= 4)
				memcpy(d, s + i, 4);
			else
				memcpy(d, s + i, n);
			d += n;
			i += n;
		}
	}
	*end = i;
	return (size_t)(d - dst);
}

#ifdef HAVE_AVX2_PATH
/* Runs of 32 bytes or more with AVX2, shorter ones with copy_plain(). */
__attribute__((target("avx2"))) static inline size_t
copy_wide(char *d, const unsigned char *s, size_t len)
{
	return len >= 32 ? copy_plain_avx2(d, s, len) : copy_plain(d, s, len);
}

__attribute__((target("avx2"))) static size_t
escape_until_avx2(char *dst, const char *src, size_t len, int at_nl,
    size_t *end)
{
	return escape_loop(dst, src, len, at_nl, end, copy_wide);
}
#endif

static size_t
escape_until(char *dst, const char *src, size_t len, int at_nl, size_t *end)
{
#ifdef HAVE_AVX2_PATH
	if (use_avx2)
		return escape_until_avx2(dst, src, len, at_nl, end);
#endif
	return escape_loop(dst, src, len, at_nl, end, copy_plain);
}

size_t
escape_bytes(char *dst, const char *src, size_t len)
{
	size_t end;

	return escape_until(dst, src, len, 0, &end);
}

size_t
escape_line(char *dst, const char *src, size_t len, size_t *eol)
{
	return escape_until(dst, src, len, 1, eol);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
escape_undo(char *dst, const char *src, size_t len)
{
	size_t i = 0, o = 0;
	int h, l;

	while (i < len) {
		if (src[i] != '\\') {
			dst[o++] = src[i++];
			continue;
		}
		if (i + 1 < len && src[i + 1] == '\\') {
			dst[o++] = '\\';
			i += 2;
			continue;
		}
		if (i + 3 >= len || src[i + 1] != 'x' ||
		    (h = hexval(src[i + 2])) < 0 || (l = hexval(src[i + 3])) < 0)
			return (size_t)-1;
		dst[o++] = (char)(h << 4 | l);
		i += 4;
	}
	return o;
}
