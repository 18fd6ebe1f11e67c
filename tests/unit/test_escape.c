/* Unit tests of the escaper (src/common/escape.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/escape.h"

static char out[4096];

static const char *
esc(const char *in, size_t len)
{
	size_t n = escape_bytes(out, in, len);

	out[n] = '\0';
	return out;
}

#define ESC(lit)	esc(lit, sizeof(lit) - 1)

static void
test_printable_ascii_passes(void **state)
{
	(void)state;
	assert_string_equal(ESC("hello, world ~!"), "hello, world ~!");
	assert_string_equal(ESC(""), "");
}

static void
test_controls_and_del_are_hex(void **state)
{
	(void)state;
	assert_string_equal(ESC("a\x1b[31mb"), "a\\x1b[31mb");
	assert_string_equal(ESC("\x00\x01\x7f"), "\\x00\\x01\\x7f");
	assert_string_equal(ESC("\r\n\t"), "\\x0d\\x0a\\x09");
}

static void
test_backslash_is_doubled(void **state)
{
	(void)state;
	assert_string_equal(ESC("a\\b"), "a\\\\b");
	/* A literal "\x41" typed by a client stays distinguishable. */
	assert_string_equal(ESC("\\x41"), "\\\\x41");
}

static void
test_valid_utf8_passes(void **state)
{
	(void)state;
	assert_string_equal(ESC("caf\xc3\xa9"), "caf\xc3\xa9");
	assert_string_equal(ESC("\xe2\x82\xac"), "\xe2\x82\xac");
	assert_string_equal(ESC("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
	assert_string_equal(ESC("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");
}

static void
test_invalid_utf8_is_hex(void **state)
{
	(void)state;
	/* Overlong '/' */
	assert_string_equal(ESC("\xc0\xaf"), "\\xc0\\xaf");
	/* Overlong 3-byte */
	assert_string_equal(ESC("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	/* Surrogate U+D800 */
	assert_string_equal(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	/* Above U+10FFFF */
	assert_string_equal(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	/* Truncated sequence at the end, stray continuation, 0xff */
	assert_string_equal(ESC("a\xe2\x82"), "a\\xe2\\x82");
	assert_string_equal(ESC("\x80z\xff"), "\\x80z\\xff");
	/* Truncated sequence followed by ASCII resynchronises. */
	assert_string_equal(ESC("\xe2(x"), "\\xe2(x");
}

static void
test_c1_controls_are_hex(void **state)
{
	(void)state;
	/* U+009B is CSI on some terminals. */
	assert_string_equal(ESC("\xc2\x9b" "2J"), "\\xc2\\x9b2J");
	assert_string_equal(ESC("\xc2\xa0"), "\xc2\xa0");	/* NBSP ok */
}

/* The UTF-8 form of code point CP into BUF; returns its length. */
static size_t
utf8_put(char *buf, unsigned long cp)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | cp >> 6);
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | cp >> 12);
		buf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | cp >> 18);
	buf[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	buf[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The characters that can make a record lie (issue 15, item 8): each must
 * come out as the \xHH of its bytes.
 */
static const struct {
	unsigned long	 cp;
	const char	*hex;		/* its bytes, escaped */
	const char	*what;
} liars[] = {
	{ 0x061c, "\\xd8\\x9c", "ARABIC LETTER MARK" },
	{ 0x200b, "\\xe2\\x80\\x8b", "ZERO WIDTH SPACE" },
	{ 0x200c, "\\xe2\\x80\\x8c", "ZERO WIDTH NON-JOINER" },
	{ 0x200d, "\\xe2\\x80\\x8d", "ZERO WIDTH JOINER" },
	{ 0x200e, "\\xe2\\x80\\x8e", "LEFT-TO-RIGHT MARK" },
	{ 0x200f, "\\xe2\\x80\\x8f", "RIGHT-TO-LEFT MARK" },
	{ 0x2028, "\\xe2\\x80\\xa8", "LINE SEPARATOR" },
	{ 0x2029, "\\xe2\\x80\\xa9", "PARAGRAPH SEPARATOR" },
	{ 0x202a, "\\xe2\\x80\\xaa", "LEFT-TO-RIGHT EMBEDDING" },
	{ 0x202b, "\\xe2\\x80\\xab", "RIGHT-TO-LEFT EMBEDDING" },
	{ 0x202c, "\\xe2\\x80\\xac", "POP DIRECTIONAL FORMATTING" },
	{ 0x202d, "\\xe2\\x80\\xad", "LEFT-TO-RIGHT OVERRIDE" },
	{ 0x202e, "\\xe2\\x80\\xae", "RIGHT-TO-LEFT OVERRIDE" },
	{ 0x2060, "\\xe2\\x81\\xa0", "WORD JOINER" },
	{ 0x2066, "\\xe2\\x81\\xa6", "LEFT-TO-RIGHT ISOLATE" },
	{ 0x2067, "\\xe2\\x81\\xa7", "RIGHT-TO-LEFT ISOLATE" },
	{ 0x2068, "\\xe2\\x81\\xa8", "FIRST STRONG ISOLATE" },
	{ 0x2069, "\\xe2\\x81\\xa9", "POP DIRECTIONAL ISOLATE" },
	{ 0xfeff, "\\xef\\xbb\\xbf", "ZERO WIDTH NO-BREAK SPACE (BOM)" },
};

#define NLIARS	(sizeof(liars) / sizeof(*liars))

/*
 * Escape "PRE" CP "POST" with escape_bytes() and escape_line(), and check
 * that CP became WANT (NULL: its own bytes), naming it if not.
 */
static void
check_char(unsigned long cp, const char *want, const char *what,
    const char *pre, const char *post)
{
	char in[128], exp[160], got[ESCAPE_BOUND(128)], own[4];
	size_t len, n, k, eol;
	int line;

	k = utf8_put(own, cp);
	len = (size_t)snprintf(in, sizeof(in), "%s%.*s%s", pre, (int)k, own,
	    post);
	snprintf(exp, sizeof(exp), "%s%.*s%s", pre, want != NULL ?
	    (int)strlen(want) : (int)k, want != NULL ? want : own, post);
	for (line = 0; line < 2; line++) {
		n = line ? escape_line(got, in, len, &eol) :
		    escape_bytes(got, in, len);
		if (n != strlen(exp) || memcmp(got, exp, n) != 0)
			fail_msg("U+%04lX %s (%s, after %zu bytes): got "
			    "\"%.*s\", want \"%s\"", cp, what, line ?
			    "escape_line" : "escape_bytes", strlen(pre),
			    (int)n, got, exp);
	}
}

/* Each lying character alone, among text, and after a long plain run. */
static void
test_lying_characters_are_hex(void **state)
{
	static const char *const around[][2] = {
		{ "", "" },
		{ "User input: D", "[07/12/2026-00:00:00] [ INFO ] - x" },
		{ "0123456789abcdef0123456789abcdef0123456789", "caf\xc3\xa9" },
		{ "\xc3\xa9", "\xe2\x80\xa7" },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < NLIARS; i++)
		for (k = 0; k < sizeof(around) / sizeof(*around); k++)
			check_char(liars[i].cp, liars[i].hex, liars[i].what,
			    around[k][0], around[k][1]);
}

/* Their neighbours, and other text, stay as they are. */
static void
test_neighbours_of_lying_characters_pass(void **state)
{
	static const struct {
		unsigned long	 cp;
		const char	*what;
	} ok[] = {
		{ 0x061b, "ARABIC SEMICOLON" },
		{ 0x061d, "U+061D" },
		{ 0x200a, "HAIR SPACE" },
		{ 0x2010, "HYPHEN" },
		{ 0x2027, "HYPHENATION POINT" },
		{ 0x202f, "NARROW NO-BREAK SPACE" },
		{ 0x205f, "MEDIUM MATHEMATICAL SPACE" },
		{ 0x2061, "FUNCTION APPLICATION" },
		{ 0x2065, "U+2065" },
		{ 0x206a, "INHIBIT SYMMETRIC SWAPPING" },
		{ 0xfefe, "U+FEFE" },
		{ 0xff01, "FULLWIDTH EXCLAMATION MARK" },
		{ 0x00e9, "e WITH ACUTE" },
		{ 0x00c5, "A WITH RING ABOVE" },
		{ 0x0644, "ARABIC LETTER LAM" },
		{ 0x20ac, "EURO SIGN" },
		{ 0x4e2d, "CJK 'middle'" },
		{ 0x6587, "CJK 'writing'" },
		{ 0x1f600, "GRINNING FACE" },
		{ 0x1f44d, "THUMBS UP SIGN" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		check_char(ok[i].cp, NULL, ok[i].what, "", "");
		check_char(ok[i].cp, NULL, ok[i].what, "x ", " y");
	}
}

/*
 * Every code point there is: escaped exactly when it is a C1 control or
 * in the table above, its own bytes otherwise.
 */
static void
test_every_code_point(void **state)
{
	char in[4], want[20], got[16];
	unsigned long cp;
	size_t len, n, i, k;
	int hex;

	(void)state;
	for (cp = 0x80; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;		/* surrogates: not UTF-8 */
		len = utf8_put(in, cp);
		hex = cp <= 0x9f;
		for (i = 0; i < NLIARS; i++)
			hex |= liars[i].cp == cp;
		n = escape_bytes(got, in, len);
		if (hex)
			for (k = 0; k < len; k++)
				sprintf(want + 4 * k, "\\x%02x",
				    (unsigned char)in[k]);
		else
			memcpy(want, in, len);
		if (n != (hex ? 4 * len : len) || memcmp(got, want, n) != 0)
			fail_msg("U+%04lX: %s", cp, hex ? "not escaped" :
			    "escaped, but is fine as it is");
	}
}

/* Every output byte is printable or part of valid UTF-8, for every input. */
static void
test_output_never_has_raw_controls(void **state)
{
	char in[256];
	size_t n, i;
	int b;

	(void)state;
	for (b = 0; b < 256; b++)
		in[b] = (char)b;
	n = escape_bytes(out, in, sizeof(in));
	assert_true(n <= ESCAPE_BOUND(sizeof(in)));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		assert_true(c >= 0x20 && c != 0x7f && c < 0x80);
	}
}

/*
 * Each special byte at each offset of lines of every length up to 72: the
 * 16-byte and 8-byte fast paths (and the last, overlapping 16-byte block)
 * must notice it wherever it sits.  The output buffer is exactly
 * ESCAPE_BOUND(len) bytes on the heap, so a write past it shows under ASan.
 */
static void
test_special_byte_at_every_offset(void **state)
{
	static const unsigned char probes[] = { 0x00, 0x1f, 0x20, 0x7e, 0x7f,
	    0x80, '\\', 0xff, 'a' };
	char in[72], want[80], *o;
	size_t len, pos, k, n, w;

	(void)state;
	for (len = 1; len <= sizeof(in); len++) {
		if ((o = malloc(ESCAPE_BOUND(len))) == NULL)
			fail();
		for (k = 0; k < sizeof(probes); k++) {
			for (pos = 0; pos < len; pos++) {
				unsigned char c = probes[k];

				memset(in, 'a', len);
				in[pos] = (char)c;
				memset(want, 'a', pos);
				w = pos;
				if (c == '\\') {
					memcpy(want + w, "\\\\", 2);
					w += 2;
				} else if (c < 0x20 || c >= 0x7f) {
					w += (size_t)sprintf(want + w, "\\x%02x",
					    c);
				} else
					want[w++] = (char)c;
				memset(want + w, 'a', len - pos - 1);
				w += len - pos - 1;
				n = escape_bytes(o, in, len);
				assert_int_equal(n, w);
				assert_memory_equal(o, want, w);
			}
		}
		free(o);
	}
}

/* Two special bytes in one line, at every pair of offsets. */
static void
test_two_special_bytes(void **state)
{
	char in[40], *o;
	size_t len = sizeof(in), i, j, n;

	(void)state;
	if ((o = malloc(ESCAPE_BOUND(len))) == NULL)
		fail();
	for (i = 0; i < len; i++) {
		for (j = i + 1; j < len; j++) {
			memset(in, 'b', len);
			in[i] = '\t';
			in[j] = '\\';
			n = escape_bytes(o, in, len);
			assert_int_equal(n, len + 3 + 1);
			assert_memory_equal(o + i, "\\x09", 4);
			assert_memory_equal(o + j + 3, "\\\\", 2);
			assert_int_equal(memchr(o, '\t', n), NULL);
		}
	}
	free(o);
}

static void
test_round_trip(void **state)
{
	char in[512], back[512];
	size_t n, m, i;

	(void)state;
	srand(42);
	for (i = 0; i < 2000; i++) {
		size_t len = (size_t)rand() % sizeof(in), j;

		for (j = 0; j < len; j++)
			in[j] = (char)(rand() & 0xff);
		n = escape_bytes(out, in, len);
		assert_true(n <= ESCAPE_BOUND(len));
		m = escape_undo(back, out, n);
		assert_int_equal(m, len);
		assert_memory_equal(back, in, len);
	}
}

/*
 * escape_line() gives what memchr() then escape_bytes() give: the same
 * bytes for the line, the newline's offset (or the length).  Random lines
 * of bytes likely to matter (newline, CR, UTF-8 leads and tails), with
 * the newline at every offset; exact-size heap buffers, for ASan.
 */
static void
test_escape_line_is_memchr_then_escape(void **state)
{
	static const unsigned char alphabet[] = { 'a', '\n', '\r', '\\', 0x00,
	    0x7f, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff, 0x1b, ' ' };
	char in[80], *a, *b;
	size_t len, i, k, na, nb, eol;
	const char *nl;

	(void)state;
	srand(7);
	for (len = 0; len <= sizeof(in); len++) {
		a = malloc(ESCAPE_BOUND(len) + 1);
		b = malloc(ESCAPE_BOUND(len) + 1);
		if (a == NULL || b == NULL)
			fail();
		for (k = 0; k < 200; k++) {
			for (i = 0; i < len; i++)
				in[i] = (char)(k % 2 == 0 ? 'x' : alphabet[
				    (size_t)rand() % sizeof(alphabet)]);
			if (k % 2 == 0 && len > 0)	/* one newline */
				in[k / 2 % len] = '\n';
			nl = memchr(in, '\n', len);
			na = escape_bytes(a, in, nl != NULL ?
			    (size_t)(nl - in) : len);
			nb = escape_line(b, in, len, &eol);
			assert_int_equal(eol, nl != NULL ? (size_t)(nl - in) :
			    len);
			assert_int_equal(nb, na);
			assert_memory_equal(b, a, na);
		}
		free(a);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable_ascii_passes),
		cmocka_unit_test(test_controls_and_del_are_hex),
		cmocka_unit_test(test_backslash_is_doubled),
		cmocka_unit_test(test_valid_utf8_passes),
		cmocka_unit_test(test_invalid_utf8_is_hex),
		cmocka_unit_test(test_c1_controls_are_hex),
		cmocka_unit_test(test_lying_characters_are_hex),
		cmocka_unit_test(test_neighbours_of_lying_characters_pass),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_output_never_has_raw_controls),
		cmocka_unit_test(test_special_byte_at_every_offset),
		cmocka_unit_test(test_two_special_bytes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_escape_line_is_memchr_then_escape),
	};

	int failed;

	/* Every test through both scanners: the same bytes either way. */
	escape_simd(0);
	failed = cmocka_run_group_tests_name("escape, SSE2", tests, NULL, NULL);
	escape_simd(1);
	failed += cmocka_run_group_tests_name("escape, AVX2 if the CPU has it",
	    tests, NULL, NULL);
	return failed;
}
