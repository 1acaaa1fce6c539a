/* libFuzzer target for emulate/guest_walk.c, in every paging mode.
 *
 * Input (fields little-endian; a short input reads as zeros):
 *
 *   u8   mode: bit 0 CR0.PG, 1 CR0.WP, 2 CR4.PSE, 3 CR4.PAE, 4 EFER.LMA,
 *        5 EFER.NXE; bit 6 adds the three noise words below to the bits of
 *        CR0, CR4 and EFER that the walk must ignore
 *   u8   CPL in bits 1:0
 *   u64  CR3
 *   u64  the linear address
 *   u64  guest RAM size in bytes (0: 4 GiB)
 *   u8   the byte every RAM location holds unless a record says otherwise
 *   u16  a page-offset delta (see below)
 *   [u32 x3 noise, when mode bit 6]
 *   then records to the end: u32 page number, u16 byte offset in the page
 *   (rounded down to 8), u64 value: the qword stored there.  Later records
 *   win.  Records outside the RAM are dropped.
 *
 * The read callback bounds-checks as core/vcpu.c's walk_read does (through
 * vm_gpa_ptr): false when [gpa, gpa+size) is not inside [0, RAM size).
 *
 * The paging-structure reads do not depend on the access or the CPL, only
 * the final rights check does, so every walk is done for all four CPLs and
 * all three access types and the results are compared: the same reads in
 * the same order, the same structural outcome (outside RAM, not present,
 * reserved bit), the same address wherever it succeeds, rights that only
 * grow from user to supervisor and from write or fetch to read, and error
 * codes that describe the access.  The walk is also repeated with the
 * address moved within its 4 KiB page, which must move the result alike. */
#include "tests/fuzz/fuzz.h"

#include "emulate/guest_walk.h"

#define CR0_PE   BIT(0)
#define CR0_WP   BIT(16)
#define CR0_PG   BIT(31)
#define CR4_PSE  BIT(4)
#define CR4_PAE  BIT(5)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

#define MAX_RECORDS 512
#define MAX_READS   8

struct record {
        uint64_t qword; /* guest-physical, 8-aligned */
        uint64_t value;
};

struct ram {
        uint64_t size;
        uint8_t fill;
        struct record rec[MAX_RECORDS];
        size_t nrec;
        /* The trace of one walk. */
        uint64_t read_gpa[MAX_READS];
        unsigned read_size[MAX_READS];
        unsigned nreads;
        bool read_failed;
};

static uint64_t fill_qword(uint8_t b)
{
        return 0x0101010101010101ULL * b;
}

static bool ram_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
        struct ram *r = ctx;
        CHECK(size == 4 || size == 8);
        CHECK(gpa % size == 0); /* entries are naturally aligned */
        CHECK(!r->read_failed); /* a failed read ends the walk */
        CHECK(r->nreads < MAX_READS);
        r->read_gpa[r->nreads] = gpa;
        r->read_size[r->nreads] = size;
        r->nreads++;
        /* As vm_gpa_ptr: the whole access inside [0, size). */
        if (!range_within(gpa, size, 0, r->size)) {
                r->read_failed = true;
                return false;
        }
        uint64_t q = fill_qword(r->fill);
        for (size_t i = r->nrec; i-- > 0;) {
                if (r->rec[i].qword == (gpa & ~7ULL)) {
                        q = r->rec[i].value;
                        break;
                }
        }
        unsigned shift = 8 * (unsigned)(gpa & 7);
        *val = size == 8 ? q : (q >> shift) & 0xffffffffULL;
        return true;
}

struct outcome {
        enum walk_result r;
        uint64_t gpa;
        uint32_t err;
        uint64_t read_gpa[MAX_READS];
        unsigned read_size[MAX_READS];
        unsigned nreads;
};

enum paging { PAGING_OFF, PAGING_32, PAGING_PAE, PAGING_4LEVEL };

static enum paging paging_of(const struct walk_ctx *w)
{
        if (!(w->cr0 & CR0_PG))
                return PAGING_OFF;
        if (w->efer & EFER_LMA)
                return PAGING_4LEVEL;
        return (w->cr4 & CR4_PAE) ? PAGING_PAE : PAGING_32;
}

static void walk(struct walk_ctx *w, struct ram *r, uint64_t gva, enum walk_access access,
                 unsigned cpl, struct outcome *o)
{
        r->nreads = 0;
        r->read_failed = false;
        w->cpl = cpl;
        o->gpa = 0x5a5a5a5a5a5a5a5aULL;
        o->err = 0xa5a5a5a5u;
        o->r = guest_walk(w, gva, access, &o->gpa, &o->err);
        o->nreads = r->nreads;
        memcpy(o->read_gpa, r->read_gpa, sizeof(o->read_gpa));
        memcpy(o->read_size, r->read_size, sizeof(o->read_size));

        enum paging pg = paging_of(w);
        CHECK(o->r == WALK_OK || o->r == WALK_PAGE_FAULT || o->r == WALK_BAD_GPA);
        /* BAD_GPA exactly when a paging-structure read left the RAM. */
        CHECK((o->r == WALK_BAD_GPA) == r->read_failed);
        switch (pg) {
        case PAGING_OFF:
                CHECK(o->r == WALK_OK && o->nreads == 0);
                CHECK(o->gpa == ((w->efer & EFER_LMA) ? gva : (gva & 0xffffffffULL)));
                break;
        case PAGING_32:
                CHECK(o->nreads >= 1 && o->nreads <= 2);
                for (unsigned i = 0; i < o->nreads; i++)
                        CHECK(o->read_size[i] == 4 && o->read_gpa[i] < BIT(32));
                /* The directory entry for the address, in the page CR3 names. */
                CHECK(o->read_gpa[0] == (w->cr3 & 0xfffff000ULL) + 4 * ((gva >> 22) & 1023));
                if (o->r == WALK_OK)
                        CHECK(o->gpa < BIT(40)); /* PSE-36 at most */
                break;
        case PAGING_PAE:
                CHECK(o->nreads >= 1 && o->nreads <= 3);
                CHECK(o->read_gpa[0] == (w->cr3 & 0xffffffe0ULL) + 8 * ((gva >> 30) & 3));
                for (unsigned i = 0; i < o->nreads; i++)
                        CHECK(o->read_size[i] == 8 && o->read_gpa[i] < BIT(52));
                break;
        case PAGING_4LEVEL:
                CHECK(o->nreads <= 4);
                for (unsigned i = 0; i < o->nreads; i++)
                        CHECK(o->read_size[i] == 8 && o->read_gpa[i] < BIT(52));
                if (o->nreads)
                        CHECK(o->read_gpa[0] ==
                              (w->cr3 & 0x000ffffffffff000ULL) + 8 * ((gva >> 39) & 511));
                break;
        }

        if (o->r == WALK_OK) {
                CHECK(o->err == 0);
                if (pg != PAGING_OFF) {
                        CHECK((o->gpa & 0xfff) == (gva & 0xfff));
                        CHECK(o->gpa < BIT(52));
                }
        } else if (o->r == WALK_PAGE_FAULT) {
                CHECK(pg != PAGING_OFF);
                CHECK((o->err & ~(uint32_t)(PF_P | PF_W | PF_U | PF_RSVD | PF_I)) == 0);
                CHECK(!!(o->err & PF_W) == (access == WALK_WRITE));
                CHECK(!!(o->err & PF_U) == (cpl == 3));
                CHECK(!(o->err & PF_RSVD) || (o->err & PF_P));
                /* SDM 4.7: I/D is 1 only for a fetch with CR4.SMEP = 1 (not
                 * modelled) or with CR4.PAE = 1 (PAE or 4-level paging) and
                 * EFER.NXE = 1; otherwise it is 0. */
                CHECK(!(o->err & PF_I) || access == WALK_FETCH);
                CHECK(!(o->err & PF_I) || pg != PAGING_32);
                if (access == WALK_FETCH && pg != PAGING_32 && (w->efer & EFER_NXE))
                        CHECK(o->err & PF_I);
                CHECK(!(o->err & PF_I) || (w->efer & EFER_NXE));
        } else {
                CHECK(pg != PAGING_OFF);
        }
}

static bool same_trace(const struct outcome *a, const struct outcome *b)
{
        if (a->nreads != b->nreads)
                return false;
        for (unsigned i = 0; i < a->nreads; i++)
                if (a->read_gpa[i] != b->read_gpa[i] || a->read_size[i] != b->read_size[i])
                        return false;
        return true;
}

/* A fault that comes from the tables' structure, not from the rights. */
static bool structural(const struct outcome *o)
{
        return o->r == WALK_BAD_GPA ||
               (o->r == WALK_PAGE_FAULT && (!(o->err & PF_P) || (o->err & PF_RSVD)));
}

static bool ok(const struct outcome *o)
{
        return o->r == WALK_OK;
}

/* All CPLs x all access types for one address. */
struct matrix {
        struct outcome o[4][3];
};

static void walk_all(struct walk_ctx *w, struct ram *r, uint64_t gva, struct matrix *m)
{
        for (unsigned cpl = 0; cpl < 4; cpl++)
                for (unsigned a = 0; a < 3; a++)
                        walk(w, r, gva, (enum walk_access)a, cpl, &m->o[cpl][a]);

        const struct outcome *ref = &m->o[0][WALK_READ];
        bool wp = w->cr0 & CR0_WP;
        bool nx_possible = paging_of(w) != PAGING_32 && (w->efer & EFER_NXE);
        for (unsigned cpl = 0; cpl < 4; cpl++) {
                for (unsigned a = 0; a < 3; a++) {
                        const struct outcome *o = &m->o[cpl][a];
                        /* The tables are read the same way for every access. */
                        CHECK(same_trace(o, ref));
                        CHECK(structural(o) == structural(ref));
                        CHECK(o->r != WALK_BAD_GPA || ref->r == WALK_BAD_GPA);
                        if (structural(o) && o->r == WALK_PAGE_FAULT)
                                CHECK((o->err & (PF_P | PF_RSVD)) == (ref->err & (PF_P | PF_RSVD)));
                        /* One translation, whoever asks. */
                        if (ok(o) && ok(ref))
                                CHECK(o->gpa == ref->gpa);
                        for (unsigned c2 = 0; c2 < 4; c2++)
                                for (unsigned a2 = 0; a2 < 3; a2++)
                                        if (ok(o) && ok(&m->o[c2][a2]))
                                                CHECK(o->gpa == m->o[c2][a2].gpa);
                }
                /* Writing or fetching needs at least the right to read. */
                if (ok(&m->o[cpl][WALK_WRITE]) || ok(&m->o[cpl][WALK_FETCH]))
                        CHECK(ok(&m->o[cpl][WALK_READ]));
                /* Without NX a page that can be read can be executed. */
                if (!nx_possible)
                        CHECK(ok(&m->o[cpl][WALK_FETCH]) == ok(&m->o[cpl][WALK_READ]));
        }
        for (unsigned a = 0; a < 3; a++) {
                /* CPL 0-2 are all supervisor; supervisor may do whatever user
                 * may (no SMEP or SMAP in this model). */
                CHECK(ok(&m->o[1][a]) == ok(&m->o[0][a]));
                CHECK(ok(&m->o[2][a]) == ok(&m->o[0][a]));
                if (ok(&m->o[3][a]))
                        CHECK(ok(&m->o[0][a]));
        }
        /* CR0.WP clear: the supervisor writes wherever it can read. */
        if (!wp)
                CHECK(ok(&m->o[0][WALK_WRITE]) == ok(&m->o[0][WALK_READ]));
}

static struct ram ram;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t mode = in_u8(&in);
        unsigned cpl = in_u8(&in) & 3;
        struct walk_ctx w = {
                .cr0 = CR0_PE | ((mode & 1) ? CR0_PG : 0) | ((mode & 2) ? CR0_WP : 0),
                .cr4 = ((mode & 4) ? CR4_PSE : 0) | ((mode & 8) ? CR4_PAE : 0),
                .efer = ((mode & 16) ? EFER_LMA | EFER_LME : 0) | ((mode & 32) ? EFER_NXE : 0),
                .cr3 = in_u64(&in),
                .read_gpa = ram_read,
                .ctx = &ram,
        };
        uint64_t gva = in_u64(&in);
        ram.size = in_u64(&in);
        if (ram.size == 0)
                ram.size = BIT(32);
        ram.fill = in_u8(&in);
        uint16_t delta = in_u16(&in) & 0xfff;
        if (mode & 64) {
                w.cr0 |= in_u32(&in) & ~(uint32_t)(CR0_PG | CR0_WP);
                w.cr4 |= in_u32(&in) & ~(uint32_t)(CR4_PSE | CR4_PAE);
                w.efer |= in_u32(&in) & ~(uint32_t)(EFER_LMA | EFER_NXE);
        }
        ram.nrec = 0;
        while (!in_empty(&in) && ram.nrec < MAX_RECORDS) {
                uint64_t page = in_u32(&in);
                uint64_t off = in_u16(&in) & 0xff8;
                uint64_t value = in_u64(&in);
                uint64_t q = (page << 12) | off;
                if (range_within(q, 8, 0, ram.size))
                        ram.rec[ram.nrec++] = (struct record){ q, value };
        }

        static struct matrix m, moved;
        walk_all(&w, &ram, gva, &m);
        /* The same walk again gives the same answer: no hidden state. */
        struct outcome again;
        walk(&w, &ram, gva, WALK_READ, cpl, &again);
        CHECK(again.r == m.o[cpl][WALK_READ].r && again.err == m.o[cpl][WALK_READ].err);
        CHECK(again.r != WALK_OK || again.gpa == m.o[cpl][WALK_READ].gpa);

        /* Moving the address within its 4 KiB page moves the result alike
         * and changes nothing else. */
        uint64_t gva2 = gva ^ delta;
        walk_all(&w, &ram, gva2, &moved);
        for (unsigned c = 0; c < 4; c++) {
                for (unsigned a = 0; a < 3; a++) {
                        const struct outcome *o = &m.o[c][a], *p = &moved.o[c][a];
                        CHECK(o->r == p->r && o->err == p->err && same_trace(o, p));
                        if (ok(o))
                                CHECK(p->gpa == (o->gpa ^ delta));
                }
        }
        return 0;
}
