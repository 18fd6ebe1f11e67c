/*
 * Which alert rules can match a record, found with one scan for the
 * literal strings their regular expressions require.  Pure code: no PCRE2
 * here, only the reading of a pattern's text and a byte-pair scan.
 */
#ifndef MATT_PREFILTER_H
#define MATT_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

#define PF_MAX_RULES	32	/* rule numbers 0..31: bits of a uint32_t */
#define PF_MAX_LITS	64	/* literals over all the rules */
#define PF_LIT_MAX	32	/* bytes of a literal kept (its prefix) */

struct pf_lit {
	char		 s[PF_LIT_MAX];
	uint8_t		 len;		/* 2..PF_LIT_MAX */
	uint8_t		 at;		/* where its scanned byte pair is */
	uint32_t	 rules;		/* the rules needing it */
};

struct prefilter {
	struct pf_lit	 lit[PF_MAX_LITS];
	int		 nlit;
	uint8_t		 pair[PF_MAX_LITS][2];	/* distinct pairs scanned for */
	int		 npair;
	/*
	 * For the vector scans: pair i is in bucket i % 8; bit B of
	 * nib[0][n] is set when a pair of bucket B has a first byte whose
	 * low nibble is n (nib[1]: its high nibble; nib[2], nib[3]: the
	 * second byte's).  Each table twice, for both lanes of a 256-bit
	 * shuffle.
	 */
	uint8_t		 nib[4][32];
	uint32_t	 always;	/* rules tried on every record */
	int		 avx2;		/* the CPU has AVX2 */
	int		 ssse3;		/* SSSE3 (neither: byte at a time) */
};

/*
 * Literals of at least 2 bytes, one of which is in every string PATTERN
 * (PCRE2 syntax, no compile options but UTF) matches: at most MAX of them
 * into OUT, each NUL-terminated and cut to PF_LIT_MAX bytes.  Returns how
 * many, or 0 when the pattern's text is not understood well enough to be
 * sure (then it must be tried on every record).
 */
int		pf_literals(const char *pattern, char (*out)[PF_LIT_MAX + 1],
		    int max);

void		pf_init(struct prefilter *);
/* Rule RULE (< PF_MAX_RULES) has PATTERN.  Returns 1 if it is prefiltered,
 * 0 if it will be tried on every record. */
int		pf_add(struct prefilter *, int rule, const char *pattern);
/* The rules worth trying on S: a bit set per rule. */
uint32_t	pf_scan(const struct prefilter *, const char *s, size_t len);
/* The same, one byte pair at a time (the reference for the tests). */
uint32_t	pf_scan_slow(const struct prefilter *, const char *s,
		    size_t len);

#endif
