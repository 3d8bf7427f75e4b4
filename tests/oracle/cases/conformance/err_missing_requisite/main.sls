needs_ghost:
  test.succeed_without_changes:
    - require:
      - test: ghost

marker:
  test.succeed_without_changes:
    - onlyif: touch {{ grains['tmp'] }}/marker
