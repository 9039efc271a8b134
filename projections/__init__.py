"""Read models built from the stored events: worklist, handover feed, audit trail."""
