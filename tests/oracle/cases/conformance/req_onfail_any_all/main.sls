bad_one:
  test.fail_without_changes
bad_two:
  test.fail_without_changes
good:
  test.succeed_without_changes
any_one_failed:
  test.succeed_with_changes:
    - onfail_any:
      - test: good
      - test: bad_one
all_failed:
  test.succeed_with_changes:
    - onfail_all:
      - test: bad_one
      - test: bad_two
not_all_failed:
  test.succeed_with_changes:
    - onfail_all:
      - test: bad_one
      - test: good
none_failed:
  test.succeed_with_changes:
    - onfail_any:
      - test: good
