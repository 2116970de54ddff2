#ifndef REFTABLE_H
#define REFTABLE_H

/* Everything an embedding program needs, in one include. */
#include "reftable-alloc.h"
#include "reftable-error.h"
#include "reftable-fs.h"
#include "reftable-iterator.h"
#include "reftable-merged.h"
#include "reftable-record.h"
#include "reftable-refdb.h"
#include "reftable-stack.h"
#include "reftable-table.h"
#include "reftable-writer.h"

#endif
