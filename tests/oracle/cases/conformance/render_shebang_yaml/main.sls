#!yaml
literal:
  test.succeed_without_changes:
    - comment: "{{ not_jinja }}"
