fine:
  test.succeed_without_changes
bad:
  test.fail_without_changes
onfail_fine:
  test.succeed_with_changes:
    - onfail:
      - test: fine
onfail_bad:
  test.succeed_without_changes:
    - onfail:
      - test: bad
