/* Row-major sparse design matrix with labels. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>

struct twin_sparse *twin_sparse_new(uint32_t n_cols)
{
    struct twin_sparse *x = vt_calloc(1, sizeof(*x));
    x->n_cols = n_cols;
    x->cap_rows = 1024;
    x->row_start = vt_calloc(x->cap_rows + 1, sizeof(size_t));
    x->label = vt_calloc(x->cap_rows, 1);
    return x;
}

void twin_sparse_free(struct twin_sparse *x)
{
    if (x == NULL)
        return;
    free(x->row_start);
    free(x->col);
    free(x->val);
    free(x->label);
    free(x);
}

enum vt_status twin_sparse_add(struct twin_sparse *x, uint32_t col, double v, struct vt_error *err)
{
    if (col >= x->n_cols)
        return vt_error_set(err, VT_ERR_INVALID, "invalid column %u: matrix has %u", col,
                            x->n_cols);
    if (!isfinite(v))
        return vt_error_set(err, VT_ERR_INVALID, "invalid value at column %u: not finite", col);
    if (x->nnz >= TWIN_SPARSE_MAX_NNZ)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "sparse matrix too large: cap %zu entries",
                            TWIN_SPARSE_MAX_NNZ);
    if (x->nnz == x->cap_nnz) {
        x->cap_nnz = x->cap_nnz ? x->cap_nnz * 2 : 4096;
        x->col = vt_realloc(x->col, x->cap_nnz * sizeof(uint32_t));
        x->val = vt_realloc(x->val, x->cap_nnz * sizeof(float));
    }
    x->col[x->nnz] = col;
    x->val[x->nnz] = (float)v;
    x->nnz++;
    return VT_OK;
}

void twin_sparse_end_row(struct twin_sparse *x, double label)
{
    if (x->n_rows == x->cap_rows) {
        x->cap_rows *= 2;
        x->row_start = vt_realloc(x->row_start, (x->cap_rows + 1) * sizeof(size_t));
        x->label = vt_realloc(x->label, x->cap_rows);
    }
    x->label[x->n_rows] = label >= 0.5;
    x->n_rows++;
    x->row_start[x->n_rows] = x->nnz;
}

size_t twin_sparse_rows(const struct twin_sparse *x)
{
    return x->n_rows;
}

uint32_t twin_sparse_cols(const struct twin_sparse *x)
{
    return x->n_cols;
}

const uint8_t *twin_sparse_labels(const struct twin_sparse *x)
{
    return x->label;
}

void twin_sparse_row(const struct twin_sparse *x, size_t r, const uint32_t **cols,
                     const float **vals, size_t *n)
{
    VT_ASSERT(r < x->n_rows);
    *cols = x->col + x->row_start[r];
    *vals = x->val + x->row_start[r];
    *n = x->row_start[r + 1] - x->row_start[r];
}
