fine:
  test.succeed_without_changes
bad:
  test.fail_without_changes
any_mixed:
  test.succeed_without_changes:
    - onfail_any:
      - test: fine
      - test: bad
all_mixed:
  test.succeed_without_changes:
    - onfail_all:
      - test: fine
      - test: bad
onfail_mixed:
  test.succeed_without_changes:
    - onfail:
      - test: fine
      - test: bad
