changer:
  test.succeed_with_changes
skipped_watcher:
  test.succeed_without_changes:
    - onlyif: 'false'
    - watch:
      - test: changer
skipped_changer:
  test.succeed_with_changes:
    - unless: 'true'
on_skipped:
  test.succeed_with_changes:
    - onchanges:
      - test: skipped_changer
