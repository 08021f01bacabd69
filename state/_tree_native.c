/* Native batch update of the authenticated state tree.
 *
 * The same algorithm as the reference state/tree.py (Tree.update and its helpers), step
 * for step: the same node records, node keys, stale keys, root and node count, which
 * tests/test_tree_native.py checks on random change sets. Hashing goes through Python's
 * hashlib.sha256; node reads through the store's two loader callables.
 *
 * update(root, version, changes, load, load_replaced, sha256)
 *     root     None or (hash: bytes32, version: int, is_leaf: bool)
 *     changes  Change objects (kh, key, value or None, existed), sorted by kh, unique,
 *              none that deletes a key that never existed
 *     -> (root or None, writes: {node key: record or None}, stale: [node key], nodes_written)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define NODE_PREFIX 'n' /* internal nodes */
#define LEAF_PREFIX 'l' /* leaves */
#define ENTRY 40 /* child hash(32) | version(8) */

typedef struct {
    uint8_t hash[32];
    uint64_t ver;
    int leaf;
    int present;
} Slot;

typedef struct {
    PyObject *kh; /* borrowed, bytes of 32 */
    PyObject *key;
    PyObject *value; /* NULL: delete */
    PyObject *vh;    /* NULL: hash the value when written */
    int existed;
} Item;

typedef struct {
    uint8_t entries[16][ENTRY];
    unsigned bitmap, leafbits;
} Node;

typedef struct {
    uint64_t version;
    PyObject *writes, *stale, *moved, *load, *load_replaced, *sha256;
    long nodes_written;
} Ctx;

static PyObject *s_digest; /* interned "digest" */

static inline unsigned nib(const uint8_t *kh, int depth) {
    uint8_t b = kh[depth >> 1];
    return (depth & 1) ? (b & 0x0F) : (b >> 4);
}

static inline const uint8_t *B(PyObject *o) { return (const uint8_t *)PyBytes_AS_STRING(o); }

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)(v & 0xFF); v >>= 8; }
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

/* depth(1) | path prefix with the unused low nibble zeroed; returns its length */
static Py_ssize_t key_tail(uint8_t *out, int depth, const uint8_t *kh) {
    int n = (depth + 1) >> 1;
    out[0] = (uint8_t)depth;
    memcpy(out + 1, kh, n);
    if (depth & 1) out[n] &= 0xF0;
    return 1 + n;
}

/* prefix(1) | version(8) | key tail: NODE_PREFIX for internal nodes, LEAF_PREFIX for leaves */
static PyObject *node_key(char prefix, uint64_t ver, int depth, const uint8_t *kh) {
    uint8_t buf[1 + 8 + 1 + 32];
    buf[0] = (uint8_t)prefix;
    put_u64(buf + 1, ver);
    Py_ssize_t n = key_tail(buf + 9, depth, kh);
    return PyBytes_FromStringAndSize((const char *)buf, 9 + n);
}

/* sha256(bytes).digest() through the given hashlib constructor (new reference) */
static PyObject *sha_obj(Ctx *c, PyObject *bytes) {
    PyObject *h = PyObject_CallOneArg(c->sha256, bytes);
    if (!h) return NULL;
    PyObject *d = PyObject_CallMethodNoArgs(h, s_digest);
    Py_DECREF(h);
    if (d && (!PyBytes_Check(d) || PyBytes_GET_SIZE(d) != 32)) {
        Py_DECREF(d);
        PyErr_SetString(PyExc_ValueError, "sha256 gave no 32-byte digest");
        return NULL;
    }
    return d;
}

static int sha(Ctx *c, const uint8_t *data, Py_ssize_t len, uint8_t out[32]) {
    PyObject *b = PyBytes_FromStringAndSize((const char *)data, len);
    if (!b) return -1;
    PyObject *d = sha_obj(c, b);
    Py_DECREF(b);
    if (!d) return -1;
    memcpy(out, B(d), 32);
    Py_DECREF(d);
    return 0;
}

static PyObject *missing(PyObject *key) {
    PyObject *hex = PyObject_CallMethod(key, "hex", NULL);
    if (hex) {
        PyErr_Format(PyExc_KeyError, "missing tree node %U (pruned version?)", hex);
        Py_DECREF(hex);
    }
    return NULL;
}

/* load(key) as a bytes object (new reference), KeyError if absent */
static PyObject *get_node(PyObject *loader, PyObject *key) {
    PyObject *v = PyObject_CallOneArg(loader, key);
    if (!v) return NULL;
    if (v == Py_None) {
        Py_DECREF(v);
        return missing(key);
    }
    if (!PyBytes_Check(v)) {
        Py_DECREF(v);
        PyErr_SetString(PyExc_TypeError, "a tree node loader must return bytes or None");
        return NULL;
    }
    return v;
}

static int decode_node(PyObject *data, Node *node) {
    const uint8_t *p = B(data);
    Py_ssize_t len = PyBytes_GET_SIZE(data);
    if (len < 5 || p[0] != 1) goto bad;
    node->bitmap = ((unsigned)p[1] << 8) | p[2];
    node->leafbits = ((unsigned)p[3] << 8) | p[4];
    if (len != 5 + ENTRY * __builtin_popcount(node->bitmap)) goto bad;
    Py_ssize_t pos = 5;
    for (int i = 0; i < 16; i++) {
        if (node->bitmap >> i & 1) {
            memcpy(node->entries[i], p + pos, ENTRY);
            pos += ENTRY;
        }
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "corrupt internal tree node");
    return -1;
}

/* A stored leaf (0x00 | keylen(4) | key | value) as new references in out[4]: the key's
 * hash, NULL for the value's hash (write_leaf computes it when needed), key, value. */
static int decode_leaf(Ctx *c, PyObject *data, PyObject *out[4]) {
    const uint8_t *p = B(data);
    Py_ssize_t len = PyBytes_GET_SIZE(data);
    if (len < 5 || p[0] != 0) goto bad;
    Py_ssize_t klen = (Py_ssize_t)(((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) |
                                   ((uint32_t)p[3] << 8) | p[4]);
    if (5 + klen > len) goto bad;
    out[1] = NULL;
    out[2] = PyBytes_FromStringAndSize((const char *)p + 5, klen);
    out[3] = PyBytes_FromStringAndSize((const char *)p + 5 + klen, len - 5 - klen);
    out[0] = out[2] ? sha_obj(c, out[2]) : NULL;
    if (!out[0] || !out[2] || !out[3]) {
        for (int i = 0; i < 4; i++) Py_CLEAR(out[i]);
        return -1;
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "corrupt tree leaf");
    return -1;
}

static Slot entry_slot(const Node *node, int i) {
    Slot s;
    s.present = (node->bitmap >> i) & 1;
    if (s.present) {
        memcpy(s.hash, node->entries[i], 32);
        s.ver = get_u64(node->entries[i] + 32);
        s.leaf = (node->leafbits >> i) & 1;
    } else {
        s.ver = 0;
        s.leaf = 0;
    }
    return s;
}

static void set_entry(Node *node, int i, const Slot *child) {
    unsigned bit = 1u << i;
    if (!child->present) {
        node->bitmap &= ~bit;
        node->leafbits &= ~bit;
        return;
    }
    memcpy(node->entries[i], child->hash, 32);
    put_u64(node->entries[i] + 32, child->ver);
    node->bitmap |= bit;
    if (child->leaf) node->leafbits |= bit;
    else node->leafbits &= ~bit;
}

static int retire_key(Ctx *c, uint64_t ver, PyObject *key) {
    if (ver == c->version) return PyDict_SetItem(c->writes, key, Py_None);
    return PyList_Append(c->stale, key);
}

static int retire_leaf(Ctx *c, uint64_t ver, int depth, const uint8_t *kh) {
    PyObject *k = node_key(LEAF_PREFIX, ver, depth, kh);
    if (!k) return -1;
    int r = retire_key(c, ver, k);
    Py_DECREF(k);
    return r;
}

/* Write a leaf at depth; vh may be NULL (then the value is hashed). */
static int write_leaf(Ctx *c, int depth, PyObject *kh, PyObject *vh, PyObject *key,
                      PyObject *value, Slot *out) {
    int rc = -1;
    PyObject *own_vh = NULL, *nk = NULL, *rec = NULL, *moved = NULL;
    if (vh == NULL) {
        own_vh = sha_obj(c, value);
        if (!own_vh) return -1;
        vh = own_vh;
    }
    Py_ssize_t klen = PyBytes_GET_SIZE(key), vlen = PyBytes_GET_SIZE(value);
    nk = node_key(LEAF_PREFIX, c->version, depth, B(kh));
    if (!nk) goto done;
    rec = PyBytes_FromStringAndSize(NULL, 5 + klen + vlen);
    if (!rec) goto done;
    uint8_t *r = (uint8_t *)PyBytes_AS_STRING(rec);
    r[0] = 0;
    r[1] = (uint8_t)(klen >> 24); r[2] = (uint8_t)(klen >> 16);
    r[3] = (uint8_t)(klen >> 8); r[4] = (uint8_t)klen;
    memcpy(r + 5, B(key), klen);
    memcpy(r + 5 + klen, B(value), vlen);
    if (PyDict_SetItem(c->writes, nk, rec) < 0) goto done;
    c->nodes_written++;
    moved = PyTuple_Pack(4, kh, vh, key, value);
    if (!moved || PyDict_SetItem(c->moved, nk, moved) < 0) goto done;
    uint8_t pre[65]; /* leaf hash = sha256(0x00 | kh | vh) */
    pre[0] = 0;
    memcpy(pre + 1, B(kh), 32);
    memcpy(pre + 33, B(vh), 32);
    if (sha(c, pre, 65, out->hash) < 0) goto done;
    out->ver = c->version;
    out->leaf = 1;
    out->present = 1;
    rc = 0;
done:
    Py_XDECREF(own_vh);
    Py_XDECREF(nk);
    Py_XDECREF(rec);
    Py_XDECREF(moved);
    return rc;
}

static int write_internal(Ctx *c, int depth, const uint8_t *path, const Node *node, Slot *out) {
    int n = __builtin_popcount(node->bitmap);
    uint8_t key[1 + 8 + 1 + 32];
    key[0] = NODE_PREFIX;
    put_u64(key + 1, c->version);
    Py_ssize_t klen = 9 + key_tail(key + 9, depth, path);
    PyObject *nk = PyBytes_FromStringAndSize((const char *)key, klen);
    if (!nk) return -1;
    PyObject *rec = PyBytes_FromStringAndSize(NULL, 5 + ENTRY * n);
    if (!rec) { Py_DECREF(nk); return -1; }
    uint8_t *r = (uint8_t *)PyBytes_AS_STRING(rec);
    uint8_t hin[3 + 32 * 16];
    r[0] = 1; r[1] = (uint8_t)(node->bitmap >> 8); r[2] = (uint8_t)node->bitmap;
    r[3] = (uint8_t)(node->leafbits >> 8); r[4] = (uint8_t)node->leafbits;
    hin[0] = 1; hin[1] = r[1]; hin[2] = r[2];
    Py_ssize_t pos = 5, hpos = 3;
    for (int i = 0; i < 16; i++) {
        if (node->bitmap >> i & 1) {
            memcpy(r + pos, node->entries[i], ENTRY);
            memcpy(hin + hpos, node->entries[i], 32);
            pos += ENTRY;
            hpos += 32;
        }
    }
    int rc = PyDict_SetItem(c->writes, nk, rec);
    Py_DECREF(nk);
    Py_DECREF(rec);
    if (rc < 0) return -1;
    c->nodes_written++;
    if (sha(c, hin, hpos, out->hash) < 0) return -1;
    out->ver = c->version;
    out->leaf = 0;
    out->present = 1;
    return 0;
}

/* Subtree for items sorted by kh, all with values. */
static int build(Ctx *c, int depth, Item *items, Py_ssize_t n, Slot *out) {
    if (n == 0) {
        out->present = 0;
        return 0;
    }
    if (n == 1) return write_leaf(c, depth, items[0].kh, items[0].vh, items[0].key, items[0].value, out);
    if (depth >= 64) {
        PyErr_SetString(PyExc_ValueError, "two changes with the same key hash");
        return -1;
    }
    Node node;
    node.bitmap = node.leafbits = 0;
    Py_ssize_t start = 0;
    while (start < n) {
        unsigned nb = nib(B(items[start].kh), depth);
        Py_ssize_t end = start + 1;
        while (end < n && nib(B(items[end].kh), depth) == nb) end++;
        Slot child;
        if (build(c, depth + 1, items + start, end - start, &child) < 0) return -1;
        set_entry(&node, (int)nb, &child);
        start = end;
    }
    return write_internal(c, depth, B(items[0].kh), &node, out);
}

/* Copy the changes that set a value into items (their value hashes still to compute);
   returns how many. */
static Py_ssize_t with_values(const Item *ch, Py_ssize_t n, Item *items) {
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (ch[i].value != NULL) {
            items[m] = ch[i];
            items[m].vh = NULL;
            m++;
        }
    }
    return m;
}

static int cmp_items(const void *a, const void *b) {
    return memcmp(B(((const Item *)a)->kh), B(((const Item *)b)->kh), 32);
}

static int update(Ctx *c, const Slot *slot, int depth, Item *ch, Py_ssize_t n, Slot *out);

static int update_leaf(Ctx *c, const Slot *slot, int depth, Item *ch, Py_ssize_t n, Slot *out) {
    uint64_t ver = slot->ver;
    const uint8_t *first = B(ch[0].kh);
    const uint8_t *old_kh = NULL;
    PyObject *old[4] = {NULL, NULL, NULL, NULL};
    int rc = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (ch[i].existed) { old_kh = B(ch[i].kh); break; }
    }
    if (old_kh == NULL) {
        /* No change names a key known to exist: read the leaf to learn whose it is. */
        PyObject *k = node_key(LEAF_PREFIX, ver, depth, first);
        if (!k) return -1;
        PyObject *data = get_node(c->load, k);
        Py_DECREF(k);
        if (!data) return -1;
        int r = decode_leaf(c, data, old);
        Py_DECREF(data);
        if (r < 0) return -1;
        old_kh = B(old[0]);
    }
    Item *items = PyMem_Malloc(sizeof(Item) * (size_t)(n + 1));
    if (!items) { PyErr_NoMemory(); goto done; }
    Py_ssize_t m = with_values(ch, n, items);
    int names_old = 0;
    for (Py_ssize_t i = 0; i < n && !names_old; i++) {
        if (memcmp(B(ch[i].kh), old_kh, 32) == 0) names_old = 1;
    }
    if (old[0] != NULL && !names_old) {
        if (m == 0) {
            *out = *slot;
            rc = 0;
            goto done;
        }
        items[m].kh = old[0]; items[m].vh = old[1]; items[m].key = old[2]; items[m].value = old[3];
        items[m].existed = 1;
        m++;
        qsort(items, (size_t)m, sizeof(Item), cmp_items);
    }
    if (retire_leaf(c, ver, depth, first) < 0) goto done;
    rc = build(c, depth, items, m, out);
done:
    PyMem_Free(items);
    for (int i = 0; i < 4; i++) Py_XDECREF(old[i]);
    return rc;
}

static void with_nibble(uint8_t *path, int depth, unsigned nb) {
    int i = depth >> 1;
    path[i] = (depth & 1) ? (uint8_t)((path[i] & 0xF0) | nb) : (uint8_t)((path[i] & 0x0F) | (nb << 4));
}

static int update(Ctx *c, const Slot *slot, int depth, Item *ch, Py_ssize_t n, Slot *out) {
    if (!slot->present) {
        Item *items = PyMem_Malloc(sizeof(Item) * (size_t)n);
        if (!items) { PyErr_NoMemory(); return -1; }
        int rc = build(c, depth, items, with_values(ch, n, items), out);
        PyMem_Free(items);
        return rc;
    }
    if (slot->leaf) return update_leaf(c, slot, depth, ch, n, out);
    if (depth >= 64) {
        PyErr_SetString(PyExc_ValueError, "corrupt tree: an internal node below depth 63");
        return -1;
    }
    uint64_t ver = slot->ver;
    const uint8_t *first = B(ch[0].kh);
    PyObject *old_key = node_key(NODE_PREFIX, ver, depth, first);
    if (!old_key) return -1;
    PyObject *data = get_node(c->load_replaced, old_key);
    if (!data) { Py_DECREF(old_key); return -1; }
    Node node;
    int r = decode_node(data, &node);
    Py_DECREF(data);
    if (r < 0) { Py_DECREF(old_key); return -1; }
    Py_ssize_t start = 0;
    while (start < n) {
        unsigned nb = nib(B(ch[start].kh), depth);
        Py_ssize_t end = start + 1;
        while (end < n && nib(B(ch[end].kh), depth) == nb) end++;
        Slot below = entry_slot(&node, (int)nb), child;
        if (update(c, &below, depth + 1, ch + start, end - start, &child) < 0) {
            Py_DECREF(old_key);
            return -1;
        }
        set_entry(&node, (int)nb, &child);
        start = end;
    }
    r = retire_key(c, ver, old_key);
    Py_DECREF(old_key);
    if (r < 0) return -1;
    if (!node.bitmap) {
        out->present = 0;
        return 0;
    }
    if (!(node.bitmap & (node.bitmap - 1)) && node.leafbits) {
        /* One child left below, a leaf: it moves up to this depth (canonical shape). */
        int only = 31 - __builtin_clz(node.bitmap);
        Slot child = entry_slot(&node, only);
        uint8_t path[32];
        memcpy(path, first, 32);
        with_nibble(path, depth, (unsigned)only);
        PyObject *ck = node_key(LEAF_PREFIX, child.ver, depth + 1, path);
        if (!ck) return -1;
        PyObject *item = PyDict_GetItemWithError(c->moved, ck); /* borrowed */
        PyObject *leaf[4] = {NULL, NULL, NULL, NULL};
        int rc = -1;
        if (item != NULL) {
            for (int i = 0; i < 4; i++) { leaf[i] = PyTuple_GET_ITEM(item, i); Py_INCREF(leaf[i]); }
            if (PyDict_DelItem(c->moved, ck) < 0 || PyDict_DelItem(c->writes, ck) < 0) goto moved_done;
            c->nodes_written--;
        } else {
            if (PyErr_Occurred()) goto moved_done;
            PyObject *d = get_node(c->load, ck);
            if (!d) goto moved_done;
            int e = decode_leaf(c, d, leaf);
            Py_DECREF(d);
            if (e < 0) goto moved_done;
            if (retire_key(c, child.ver, ck) < 0) goto moved_done;
        }
        rc = write_leaf(c, depth, leaf[0], leaf[1], leaf[2], leaf[3], out);
    moved_done:
        Py_DECREF(ck);
        for (int i = 0; i < 4; i++) Py_XDECREF(leaf[i]);
        return rc;
    }
    return write_internal(c, depth, first, &node, out);
}

static int slot_from_py(PyObject *o, Slot *s) {
    if (o == Py_None) {
        s->present = 0;
        return 0;
    }
    PyObject *h, *v, *l;
    if (!PyArg_ParseTuple(o, "SOO;a root slot is (hash, version, is_leaf)", &h, &v, &l)) return -1;
    if (PyBytes_GET_SIZE(h) != 32) {
        PyErr_SetString(PyExc_ValueError, "a root hash is 32 bytes");
        return -1;
    }
    memcpy(s->hash, B(h), 32);
    s->ver = PyLong_AsUnsignedLongLong(v);
    if (s->ver == (uint64_t)-1 && PyErr_Occurred()) return -1;
    s->leaf = PyObject_IsTrue(l);
    if (s->leaf < 0) return -1;
    s->present = 1;
    return 0;
}

static PyObject *slot_to_py(const Slot *s) {
    if (!s->present) Py_RETURN_NONE;
    return Py_BuildValue("(y#KO)", (const char *)s->hash, (Py_ssize_t)32,
                         (unsigned long long)s->ver, s->leaf ? Py_True : Py_False);
}

static PyObject *py_update(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *root, *changes, *load, *load_replaced, *sha256;
    unsigned long long version;
    if (!PyArg_ParseTuple(args, "OKO!OOO", &root, &version, &PyList_Type, &changes, &load,
                          &load_replaced, &sha256))
        return NULL;
    Slot rs, out;
    if (slot_from_py(root, &rs) < 0) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(changes);
    Ctx c = {version, PyDict_New(), PyList_New(0), PyDict_New(), load, load_replaced, sha256, 0};
    Item *items = PyMem_Malloc(sizeof(Item) * (size_t)(n ? n : 1));
    PyObject **owned = PyMem_Calloc((size_t)(n ? n : 1) * 3, sizeof(PyObject *));
    PyObject *result = NULL;
    if (!c.writes || !c.stale || !c.moved || !items || !owned) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    static const char *names[3] = {"kh", "key", "value"};
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ch = PyList_GET_ITEM(changes, i);
        for (int f = 0; f < 3; f++) {
            owned[3 * i + f] = PyObject_GetAttrString(ch, names[f]);
            if (!owned[3 * i + f]) goto done;
        }
        PyObject *kh = owned[3 * i], *key = owned[3 * i + 1], *value = owned[3 * i + 2];
        if (!PyBytes_Check(kh) || PyBytes_GET_SIZE(kh) != 32 || !PyBytes_Check(key) ||
            (value != Py_None && !PyBytes_Check(value))) {
            PyErr_SetString(PyExc_TypeError, "a change is (kh: bytes32, key: bytes, value: bytes or None)");
            goto done;
        }
        if (i > 0 && memcmp(B(owned[3 * (i - 1)]), B(kh), 32) >= 0) {
            PyErr_SetString(PyExc_ValueError, "changes must be sorted by key hash, each key once");
            goto done;
        }
        PyObject *ex = PyObject_GetAttrString(ch, "existed");
        if (!ex) goto done;
        int existed = PyObject_IsTrue(ex);
        Py_DECREF(ex);
        if (existed < 0) goto done;
        items[i].kh = kh;
        items[i].key = key;
        items[i].value = value == Py_None ? NULL : value;
        items[i].vh = NULL;
        items[i].existed = existed;
    }
    if (n == 0) {
        out = rs;
    } else if (update(&c, &rs, 0, items, n, &out) < 0) {
        goto done;
    }
    PyObject *r = slot_to_py(&out);
    if (r) result = Py_BuildValue("(NOOl)", r, c.writes, c.stale, c.nodes_written);
done:
    if (owned) {
        for (Py_ssize_t i = 0; i < 3 * n; i++) Py_XDECREF(owned[i]);
    }
    PyMem_Free(owned);
    PyMem_Free(items);
    Py_XDECREF(c.writes);
    Py_XDECREF(c.stale);
    Py_XDECREF(c.moved);
    return result;
}

static PyMethodDef methods[] = {
    {"update", py_update, METH_VARARGS,
     "update(root, version, changes, load, load_replaced, sha256) -> (root, writes, stale, nodes_written)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "state._tree_native",
    .m_doc = "Native batch update of the state tree (reference: state/tree.py).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__tree_native(void) {
    s_digest = PyUnicode_InternFromString("digest");
    if (!s_digest) return NULL;
    return PyModule_Create(&moduledef);
}
