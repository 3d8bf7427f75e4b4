changer:
  test.succeed_with_changes
quiet:
  test.succeed_without_changes
watches_changer:
  test.succeed_without_changes:
    - watch:
      - test: changer
watches_quiet:
  test.succeed_without_changes:
    - watch:
      - test: quiet
broken:
  test.fail_with_changes
watches_broken:
  test.succeed_without_changes:
    - watch:
      - test: broken
