// Tests written below.
