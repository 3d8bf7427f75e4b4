changer:
  test.succeed_with_changes
quiet:
  test.succeed_without_changes
on_changer:
  test.succeed_with_changes:
    - onchanges:
      - test: changer
on_quiet:
  test.succeed_with_changes:
    - onchanges:
      - test: quiet
