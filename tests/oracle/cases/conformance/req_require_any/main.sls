ok_one:
  test.succeed_without_changes
bad_one:
  test.fail_without_changes
bad_two:
  test.fail_without_changes
any_ok:
  test.succeed_without_changes:
    - require_any:
      - test: bad_one
      - test: ok_one
all_bad:
  test.succeed_without_changes:
    - require_any:
      - test: bad_one
      - test: bad_two
