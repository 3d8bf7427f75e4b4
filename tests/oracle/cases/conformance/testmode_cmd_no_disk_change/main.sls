write_it:
  cmd.run:
    - name: touch {{ grains['tmp'] }}/written
needs_it:
  test.succeed_without_changes:
    - require:
      - cmd: write_it
