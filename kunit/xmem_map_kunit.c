// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the process-wide mappings of descriptors (mm/xmem_map.c).
 *
 * Each test runs in a KUnit kthread with a user mm (kunit_vm_mmap()); it is
 * both the owner of the memory and the process that maps it, so a mapping
 * of an address-space descriptor is looked up in the very mm that faults
 * on it.  The descriptor's file is an anonymous inode of the test's own
 * whose ->mmap is xmem_map_mmap(), standing in for /dev/xmem's (whose
 * cross-process behaviour the selftests cover).  The mapping is read and
 * written with copy_{from,to}_user(), whose fixup turns a SIGBUS into a
 * failed copy.  Tracepoint probes count faults, the pages each fault
 * mapped, and misuse events.
 */

#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xmem.h>
#include <trace/events/xmem_map.h>

#include "lw_kunit.h"
#include "xmem_internal.h"

/* ===== Event capture ===== */

struct map_events {
	long faults;		/* xmem_map_fault events */
	long fault_pages;	/* pages they mapped, together */
	int fault_err;		/* the last one's error */
	long maps;		/* xmem_map events */
	int map_err;		/* the last one's error */
	long unmaps;		/* xmem_unmap events */
	long misuses;		/* xmem_map_misuse events */
	int misuse_kind;	/* the last one's */
	unsigned long misuse_addr;
	int misuse_err;
};

static LW_KUNIT_EVENTS(struct map_events e;) seen = LW_KUNIT_EVENTS_INIT(seen);

static void probe_fault(void *data, const void *dp, unsigned long addr,
			unsigned long pages, bool write, int err)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.e.faults++;
	seen.e.fault_pages += pages;
	seen.e.fault_err = err;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_map(void *data, const void *dp, unsigned long addr,
		      unsigned long len, unsigned long pgoff, bool writable,
		      int err)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.e.maps++;
	seen.e.map_err = err;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_unmap(void *data, const void *dp, unsigned long addr,
			unsigned long len, unsigned long pgoff)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.e.unmaps++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_misuse(void *data, enum xmem_misuse_kind kind,
			 const void *dp, unsigned long addr, size_t len,
			 pid_t owner_tgid, long count, int err)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.e.misuses++;
	seen.e.misuse_kind = kind;
	seen.e.misuse_addr = addr;
	seen.e.misuse_err = err;
	lw_kunit_unlock(&seen.lock, flags);
}

static const struct lw_kunit_probe map_probes[] = {
	LW_KUNIT_PROBE(xmem_map_fault, probe_fault),
	LW_KUNIT_PROBE(xmem_map, probe_map),
	LW_KUNIT_PROBE(xmem_unmap, probe_unmap),
	LW_KUNIT_PROBE(xmem_map_misuse, probe_misuse),
};

static struct map_events events(void)
{
	return lw_kunit_read(&seen, seen.e);
}

/* ===== Fixture: a descriptor, its map and a file to mmap ===== */

struct fixture {
	struct xmem *dp;
	struct xmem_map *map;
	struct file *file;
};

static int fixture_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct fixture *fx = file->private_data;

	return xmem_map_mmap(fx->map, vma);
}

static const struct file_operations fixture_fops = {
	.owner	= THIS_MODULE,
	.mmap	= fixture_mmap,
};

static void fixture_destroy(void *data)
{
	struct fixture *fx = data;

	xmem_map_destroy(fx->map);
}

static void fixture_fput(void *data)
{
	fput(data);
}

/*
 * A descriptor of [@addr, @addr + @len): an address-space one (@aspace) or
 * a pinned one, and a file of its own inode whose mmap() maps it.  Torn
 * down when the test ends, in order: file, map, descriptor.
 */
static struct fixture *fixture(struct kunit *test, unsigned long addr,
			       size_t len, bool aspace, bool rdonly)
{
	struct fixture *fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, fx);
	fx->dp = lw_kunit_alloc_dp(test);
	if (aspace)
		KUNIT_ASSERT_EQ(test, xmem_attach_aspace(addr, len, fx->dp,
							 rdonly), 0);
	else
		KUNIT_ASSERT_EQ(test, xmem_attach_lw(addr, len, fx->dp, rdonly),
				0);
	fx->file = anon_inode_create_getfile("[xmem-map-test]", &fixture_fops,
					     fx, O_RDWR, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fx->file));
	fx->map = xmem_map_create(fx->dp, fx->file->f_mapping);
	if (IS_ERR(fx->map)) {
		fput(fx->file);
		KUNIT_FAIL_AND_ABORT(test, "xmem_map_create: %ld",
				     PTR_ERR(fx->map));
	}
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, fixture_destroy, fx));
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, fixture_fput, fx->file));
	return fx;
}

/*
 * mmap() @pages pages of the descriptor from page @pgoff: an address, or
 * an error as vm_mmap() returns it.
 */
static unsigned long map(struct fixture *fx, unsigned long pgoff,
			 unsigned long pages, unsigned long prot,
			 unsigned long flags)
{
	return vm_mmap(fx->file, 0, pages << PAGE_SHIFT, prot, flags,
		       pgoff << PAGE_SHIFT);
}

static unsigned long map_ok(struct kunit *test, struct fixture *fx,
			    unsigned long pgoff, unsigned long pages,
			    unsigned long prot)
{
	unsigned long addr = map(fx, pgoff, pages, prot, MAP_SHARED);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(addr), "mmap: %ld",
			       (long)addr);
	return addr;
}

/* Anonymous memory of the test's mm, each byte set by fill_byte(). */
static unsigned long owner_buf(struct kunit *test, size_t len, u8 seed)
{
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, len,
					   PROT_READ | PROT_WRITE,
					   MAP_ANONYMOUS | MAP_PRIVATE, 0);
	u8 *k = kunit_kmalloc(test, len, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NE(test, addr, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	KUNIT_ASSERT_NOT_NULL(test, k);
	for (i = 0; i < len; i++)
		k[i] = seed + i * 13;
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, k, len), 0);
	kunit_kfree(test, k);
	return addr;
}

/* Does [@addr, @addr + @len) of the test's mm hold bytes of @seed? */
static bool holds(struct kunit *test, unsigned long addr, size_t len,
		  size_t from, u8 seed)
{
	u8 *k = kmalloc(len, GFP_KERNEL);
	bool ok = false;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, k);
	if (copy_from_user(k, (void __user *)addr, len))
		goto out;
	for (i = 0; i < len; i++)
		if (k[i] != (u8)(seed + (from + i) * 13))
			goto out;
	ok = true;
out:
	kfree(k);
	return ok;
}

static bool readable(unsigned long addr)
{
	u8 b;

	return !copy_from_user(&b, (void __user *)addr, 1);
}

static bool writable(unsigned long addr, u8 b)
{
	return !copy_to_user((void __user *)addr, &b, 1);
}

#define SEED	0x5a

/* ===== Address-space descriptors ===== */

/* A mapping reads the owner's bytes, at any page offset. */
static void test_aspace_reads_owner(struct kunit *test)
{
	size_t len = 8 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, true, false);
	unsigned long m = map_ok(test, fx, 0, 8, PROT_READ);
	unsigned long m2 = map_ok(test, fx, 3, 2, PROT_READ);

	KUNIT_EXPECT_TRUE(test, holds(test, m, len, 0, SEED));
	KUNIT_EXPECT_TRUE(test, holds(test, m2, 2 * PAGE_SIZE,
				      3 * PAGE_SIZE, SEED));
	KUNIT_EXPECT_EQ(test, xmem_map_count(fx->map), 2);
	KUNIT_EXPECT_EQ(test, events().maps, 2);
	KUNIT_EXPECT_EQ(test, events().misuses, 0);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
	KUNIT_EXPECT_EQ(test, vm_munmap(m2, 2 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, xmem_map_count(fx->map), 0);
	KUNIT_EXPECT_EQ(test, events().unmaps, 2);
}

/* A write through a mapping is the owner's memory, and the reverse. */
static void test_aspace_writes_owner(struct kunit *test)
{
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, true, false);
	unsigned long m = map_ok(test, fx, 0, 4, PROT_READ | PROT_WRITE);
	u8 b = 0;

	KUNIT_EXPECT_TRUE(test, writable(m + 2 * PAGE_SIZE + 5, 0xee));
	KUNIT_EXPECT_EQ(test, get_user(b, (u8 __user *)(buf + 2 * PAGE_SIZE + 5)), 0);
	KUNIT_EXPECT_EQ(test, b, 0xee);
	KUNIT_EXPECT_TRUE(test, writable(buf + 7, 0x11));
	KUNIT_EXPECT_EQ(test, get_user(b, (u8 __user *)(m + 7)), 0);
	KUNIT_EXPECT_EQ(test, b, 0x11);
	/* Read first, then written: the read-only PTE goes through mkwrite. */
	KUNIT_EXPECT_TRUE(test, readable(m + 3 * PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, writable(m + 3 * PAGE_SIZE, 0x77));
	KUNIT_EXPECT_EQ(test, get_user(b, (u8 __user *)(buf + 3 * PAGE_SIZE)), 0);
	KUNIT_EXPECT_EQ(test, b, 0x77);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/* One fault maps every present page of its 2 MiB chunk. */
static void test_aspace_fault_around(struct kunit *test)
{
	size_t len = 64 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, true, false);
	unsigned long m = map_ok(test, fx, 0, 64, PROT_READ);
	struct map_events e;

	lw_kunit_reset(&seen);
	KUNIT_EXPECT_TRUE(test, holds(test, m, len, 0, SEED));
	e = events();
	/* The mapping may straddle one 2 MiB boundary: two chunks then. */
	KUNIT_EXPECT_GE(test, e.faults, 1);
	KUNIT_EXPECT_LE(test, e.faults, 2);
	KUNIT_EXPECT_EQ(test, e.fault_pages, 64);
	KUNIT_EXPECT_EQ(test, e.fault_err, 0);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/* Under MADV_RANDOM, a fault maps the page touched and no other. */
static void test_aspace_madv_random(struct kunit *test)
{
	size_t len = 16 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, true, false);
	unsigned long m = map_ok(test, fx, 0, 16, PROT_READ);

	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, m, len, MADV_RANDOM), 0);
	lw_kunit_reset(&seen);
	KUNIT_EXPECT_TRUE(test, holds(test, m, len, 0, SEED));
	KUNIT_EXPECT_EQ(test, events().faults, 16);
	KUNIT_EXPECT_EQ(test, events().fault_pages, 16);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/* The owner unmaps and maps again: the mapping follows, never stale. */
static void test_aspace_follows_owner(struct kunit *test)
{
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, true, false);
	unsigned long m = map_ok(test, fx, 0, 4, PROT_READ);
	unsigned long again;
	size_t i;
	u8 k[8];

	KUNIT_ASSERT_TRUE(test, holds(test, m, len, 0, SEED));
	KUNIT_ASSERT_EQ(test, vm_munmap(buf + PAGE_SIZE, PAGE_SIZE), 0);
	lw_kunit_reset(&seen);
	KUNIT_EXPECT_FALSE(test, readable(m + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, events().misuses, 1);
	KUNIT_EXPECT_EQ(test, events().misuse_kind, XMEM_MISUSE_TOUCH_GONE);
	KUNIT_EXPECT_EQ(test, events().misuse_addr, m + PAGE_SIZE);
	/* Pages the owner kept are still there. */
	KUNIT_EXPECT_TRUE(test, holds(test, m, PAGE_SIZE, 0, SEED));
	KUNIT_EXPECT_TRUE(test, holds(test, m + 2 * PAGE_SIZE, 2 * PAGE_SIZE,
				      2 * PAGE_SIZE, SEED));
	/* New memory at the old address: its bytes, not the old ones. */
	again = vm_mmap(NULL, buf + PAGE_SIZE, PAGE_SIZE,
			PROT_READ | PROT_WRITE,
			MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ(test, again, buf + PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, readable(m + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, copy_from_user(k, (void __user *)(m + PAGE_SIZE),
					     sizeof(k)), 0);
	for (i = 0; i < sizeof(k); i++)
		KUNIT_EXPECT_EQ(test, k[i], 0);
	KUNIT_EXPECT_TRUE(test, writable(buf + PAGE_SIZE, 0x42));
	KUNIT_EXPECT_EQ(test, get_user(k[0], (u8 __user *)(m + PAGE_SIZE)), 0);
	KUNIT_EXPECT_EQ(test, k[0], 0x42);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/* Where the owner has nothing, or no write access, a touch is SIGBUS. */
static void test_aspace_holes_and_access(struct kunit *test)
{
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx;
	unsigned long m;

	/* A hole in the middle of the range, made before the descriptor. */
	KUNIT_ASSERT_EQ(test, vm_munmap(buf + 2 * PAGE_SIZE, PAGE_SIZE), 0);
	fx = fixture(test, buf, len, true, false);
	m = map_ok(test, fx, 0, 4, PROT_READ | PROT_WRITE);
	KUNIT_EXPECT_TRUE(test, readable(m + 3 * PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, readable(m + 2 * PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, writable(m + 2 * PAGE_SIZE, 1));
	KUNIT_EXPECT_EQ(test, events().misuse_kind, XMEM_MISUSE_TOUCH_GONE);
	KUNIT_EXPECT_EQ(test, events().misuses, 2);
	/* The owner's read-only page: readable, never written through. */
	KUNIT_ASSERT_EQ(test, vm_mmap(NULL, buf + 2 * PAGE_SIZE, PAGE_SIZE,
				      PROT_READ, MAP_ANONYMOUS | MAP_PRIVATE |
				      MAP_FIXED, 0), buf + 2 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, readable(m + 2 * PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, writable(m + 2 * PAGE_SIZE, 1));
	KUNIT_EXPECT_EQ(test, events().misuses, 3);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/* Memory the owner never touched: faulted in on its side, zeros first. */
static void test_aspace_untouched_owner_memory(struct kunit *test)
{
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = kunit_vm_mmap(test, NULL, 0, len,
					  PROT_READ | PROT_WRITE,
					  MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct fixture *fx = fixture(test, buf, len, true, false);
	unsigned long m = map_ok(test, fx, 0, 4, PROT_READ | PROT_WRITE);
	u8 b = 1;

	KUNIT_EXPECT_EQ(test, get_user(b, (u8 __user *)(m + PAGE_SIZE)), 0);
	KUNIT_EXPECT_EQ(test, b, 0);
	KUNIT_EXPECT_TRUE(test, writable(m + PAGE_SIZE, 0x99));
	KUNIT_EXPECT_EQ(test, get_user(b, (u8 __user *)(buf + PAGE_SIZE)), 0);
	KUNIT_EXPECT_EQ(test, b, 0x99);
	KUNIT_EXPECT_EQ(test, events().misuses, 0);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/* ===== Both kinds ===== */

/* Revoked: every touch is SIGBUS, and nothing maps it again. */
static void test_revoke(struct kunit *test)
{
	bool aspace = *(bool *)test->param_value;
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, aspace, false);
	unsigned long m = map_ok(test, fx, 0, 4, PROT_READ);

	KUNIT_ASSERT_TRUE(test, holds(test, m, len, 0, SEED));
	xmem_map_revoke(fx->map);
	KUNIT_EXPECT_FALSE(test, readable(m));
	KUNIT_EXPECT_FALSE(test, readable(m + 3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, events().misuse_kind, XMEM_MISUSE_TOUCH_REVOKED);
	KUNIT_EXPECT_EQ(test, events().misuses, 2);
	KUNIT_EXPECT_EQ(test, (long)map(fx, 0, 1, PROT_READ, MAP_SHARED),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, events().map_err, -ENODEV);
	/* The owner's memory is untouched. */
	KUNIT_EXPECT_TRUE(test, holds(test, buf, len, 0, SEED));
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/* Each VMA is an attachment: xmdetach() waits for the last munmap. */
static void test_mapping_is_attachment(struct kunit *test)
{
	bool aspace = *(bool *)test->param_value;
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, aspace, false);
	unsigned long m = map_ok(test, fx, 0, 4, PROT_READ);

	KUNIT_EXPECT_EQ(test, xmem_lw_count(fx->dp), 1);
	KUNIT_EXPECT_EQ(test, xmdetach(fx->dp), -EBUSY);
	/* Split in two by unmapping its middle: two attachments. */
	KUNIT_ASSERT_EQ(test, vm_munmap(m + PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(fx->dp), 2);
	KUNIT_EXPECT_EQ(test, xmem_map_count(fx->map), 2);
	KUNIT_EXPECT_TRUE(test, holds(test, m + 2 * PAGE_SIZE, PAGE_SIZE,
				      2 * PAGE_SIZE, SEED));
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(fx->dp), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(fx->dp), 0);
	/* Detached: nothing maps it any more. */
	KUNIT_EXPECT_EQ(test, (long)map(fx, 0, 1, PROT_READ, MAP_SHARED),
			-ENODEV);
}

/* What mmap() refuses, and that it changes nothing. */
static void test_mmap_errors(struct kunit *test)
{
	bool aspace = *(bool *)test->param_value;
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, aspace, false);
	struct fixture *ro = fixture(test, buf, len, aspace, true);

	KUNIT_EXPECT_EQ(test, (long)map(fx, 0, 1, PROT_READ, MAP_PRIVATE),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, (long)map(fx, 4, 1, PROT_READ, MAP_SHARED),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, (long)map(fx, 2, 3, PROT_READ, MAP_SHARED),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, (long)map(fx, ~0UL >> PAGE_SHIFT, 1, PROT_READ,
					MAP_SHARED), -EINVAL);
	KUNIT_EXPECT_EQ(test, (long)map(ro, 0, 1, PROT_READ | PROT_WRITE,
					MAP_SHARED), -EACCES);
	KUNIT_EXPECT_EQ(test, events().map_err, -EACCES);
	KUNIT_EXPECT_EQ(test, xmem_map_count(fx->map), 0);
	KUNIT_EXPECT_EQ(test, xmem_map_count(ro->map), 0);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(fx->dp), 0);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(ro->dp), 0);
}

/* A read-only descriptor maps read-only, and stays so. */
static void test_rdonly_stays_rdonly(struct kunit *test)
{
	bool aspace = *(bool *)test->param_value;
	size_t len = 2 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *ro = fixture(test, buf, len, aspace, true);
	unsigned long m = map_ok(test, ro, 0, 2, PROT_READ);
	struct vm_area_struct *vma;

	KUNIT_EXPECT_TRUE(test, holds(test, m, len, 0, SEED));
	KUNIT_EXPECT_FALSE(test, writable(m, 1));
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, m);
	KUNIT_EXPECT_NOT_NULL(test, vma);
	if (vma)
		KUNIT_EXPECT_FALSE(test, vma->vm_flags & (VM_WRITE | VM_MAYWRITE));
	mmap_read_unlock(current->mm);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/* XMEM_IOC_UNMAP's work: unmap by address, misuse reported. */
static void test_unmap_by_address(struct kunit *test)
{
	bool aspace = *(bool *)test->param_value;
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, aspace, false);
	unsigned long m = map_ok(test, fx, 0, 4, PROT_READ);

	KUNIT_EXPECT_EQ(test, xmem_map_unmap(m + PAGE_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, events().misuse_kind,
			XMEM_MISUSE_UNMAP_UNATTACHED);
	KUNIT_EXPECT_EQ(test, events().misuse_err, -EINVAL);
	KUNIT_EXPECT_EQ(test, xmem_map_unmap(buf), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmem_map_unmap(PAGE_SIZE), -ENOENT);
	KUNIT_EXPECT_EQ(test, events().misuse_err, -ENOENT);
	KUNIT_EXPECT_EQ(test, events().misuses, 3);
	KUNIT_EXPECT_EQ(test, xmem_map_count(fx->map), 1);
	KUNIT_EXPECT_TRUE(test, holds(test, m, len, 0, SEED));
	KUNIT_EXPECT_EQ(test, xmem_map_unmap(m), 0);
	KUNIT_EXPECT_EQ(test, xmem_map_count(fx->map), 0);
	KUNIT_EXPECT_FALSE(test, readable(m));
	/* The owner's memory is still there. */
	KUNIT_EXPECT_TRUE(test, holds(test, buf, len, 0, SEED));
}

/* A pinned descriptor's mapping is its pinned pages, both ways. */
static void test_pinned_reads_and_writes(struct kunit *test)
{
	size_t len = 4 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, false, false);
	unsigned long m = map_ok(test, fx, 0, 4, PROT_READ | PROT_WRITE);
	u8 b = 0;

	KUNIT_EXPECT_TRUE(test, holds(test, m, len, 0, SEED));
	KUNIT_EXPECT_TRUE(test, writable(m + PAGE_SIZE + 1, 0xab));
	KUNIT_EXPECT_EQ(test, get_user(b, (u8 __user *)(buf + PAGE_SIZE + 1)), 0);
	KUNIT_EXPECT_EQ(test, b, 0xab);
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

/*
 * No secondary MMU takes a page from a mapping.  The zap that keeps an
 * address-space mapping coherent does not run the attacher's MMU
 * notifiers, so a KVM or VFIO mapping of an attacher's mapping would keep
 * owner pages past their free: both find PFN mappings through
 * follow_pfnmap_start(), which must refuse the VMA, and everything else
 * through GUP, which must refuse the special PTEs.
 */
static void test_secondary_mmus_refused(struct kunit *test)
{
	bool aspace = *(bool *)test->param_value;
	size_t len = 2 * PAGE_SIZE;
	unsigned long buf = owner_buf(test, len, SEED);
	struct fixture *fx = fixture(test, buf, len, aspace, false);
	unsigned long m = map_ok(test, fx, 0, 2, PROT_READ | PROT_WRITE);
	struct follow_pfnmap_args args = { .address = m };
	struct page *page = NULL;
	long got = 0;
	int ret = 0;

	/*
	 * Both PTEs present, writable; each first byte rewritten as it was
	 * (owner_buf() put SEED + i * 13 at byte i, and PAGE_SIZE * 13 is a
	 * multiple of 256).
	 */
	KUNIT_ASSERT_TRUE(test, writable(m, SEED));
	KUNIT_ASSERT_TRUE(test, writable(m + PAGE_SIZE, SEED));
	mmap_read_lock(current->mm);
	args.vma = vma_lookup(current->mm, m);
	if (args.vma) {
		ret = follow_pfnmap_start(&args);
		if (!ret)
			follow_pfnmap_end(&args);
		got = get_user_pages(m, 1, FOLL_WRITE, &page);
		if (got > 0)
			put_page(page);
	}
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_NOT_NULL(test, args.vma);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	KUNIT_EXPECT_EQ(test, got, -EEXIST);
	got = pin_user_pages_fast(m + PAGE_SIZE, 1, FOLL_WRITE | FOLL_LONGTERM,
				  &page);
	if (got > 0)
		unpin_user_page(page);
	KUNIT_EXPECT_LT(test, got, 0);	/* -EFAULT, for FOLL_LONGTERM */
	KUNIT_EXPECT_TRUE(test, holds(test, m, len, 0, SEED));
	KUNIT_EXPECT_EQ(test, vm_munmap(m, len), 0);
}

static const bool kinds[] = { true, false };

static void kind_desc(const bool *aspace, char *desc)
{
	strscpy(desc, *aspace ? "aspace" : "pinned", KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(kind, kinds, kind_desc);

static struct kunit_case xmem_map_test_cases[] = {
	KUNIT_CASE(test_aspace_reads_owner),
	KUNIT_CASE(test_aspace_writes_owner),
	KUNIT_CASE(test_aspace_fault_around),
	KUNIT_CASE(test_aspace_madv_random),
	KUNIT_CASE(test_aspace_follows_owner),
	KUNIT_CASE(test_aspace_holes_and_access),
	KUNIT_CASE(test_aspace_untouched_owner_memory),
	KUNIT_CASE_PARAM(test_revoke, kind_gen_params),
	KUNIT_CASE_PARAM(test_mapping_is_attachment, kind_gen_params),
	KUNIT_CASE_PARAM(test_mmap_errors, kind_gen_params),
	KUNIT_CASE_PARAM(test_rdonly_stays_rdonly, kind_gen_params),
	KUNIT_CASE_PARAM(test_unmap_by_address, kind_gen_params),
	KUNIT_CASE_PARAM(test_secondary_mmus_refused, kind_gen_params),
	KUNIT_CASE(test_pinned_reads_and_writes),
	{}
};

/* Each test sees only its own events. */
static int xmem_map_test_init(struct kunit *test)
{
	lw_kunit_reset(&seen);
	return 0;
}

static int xmem_map_suite_init(struct kunit_suite *suite)
{
	return lw_kunit_register_probes(map_probes, ARRAY_SIZE(map_probes));
}

static void xmem_map_suite_exit(struct kunit_suite *suite)
{
	lw_kunit_unregister_probes(map_probes, ARRAY_SIZE(map_probes));
}

static struct kunit_suite xmem_map_test_suite = {
	.name = "xmem_map",
	.test_cases = xmem_map_test_cases,
	.init = xmem_map_test_init,
	.suite_init = xmem_map_suite_init,
	.suite_exit = xmem_map_suite_exit,
};

kunit_test_suite(xmem_map_test_suite);

MODULE_DESCRIPTION("KUnit tests for mappings of cross-memory descriptors");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
