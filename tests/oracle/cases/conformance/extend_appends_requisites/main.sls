include:
  - base
changer:
  test.succeed_with_changes
extend:
  watcher:
    test:
      - watch:
        - test: changer
      - require:
        - test: two
