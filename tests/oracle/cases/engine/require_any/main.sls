bad:
  test.fail_without_changes
good:
  test.succeed_without_changes
any_ok:
  test.succeed_without_changes:
    - require_any:
      - test: bad
      - test: good
any_bad:
  test.succeed_without_changes:
    - require_any:
      - test: bad
