{% set tmp = grains['tmp'] %}
onlyif_false:
  test.succeed_with_changes:
    - onlyif: 'false'
onlyif_true:
  test.succeed_with_changes:
    - onlyif: 'true'
onlyif_list_one_false:
  test.succeed_with_changes:
    - onlyif:
      - 'true'
      - 'false'
onlyif_fun:
  test.succeed_with_changes:
    - onlyif:
      - fun: file.file_exists
        path: {{ tmp }}/exists
unless_true:
  test.succeed_with_changes:
    - unless: test -e {{ tmp }}/exists
unless_false:
  test.succeed_with_changes:
    - unless: test -e {{ tmp }}/missing
unless_list_one_false:
  test.succeed_with_changes:
    - unless:
      - 'true'
      - 'false'
creates_exists:
  test.succeed_with_changes:
    - creates: {{ tmp }}/exists
creates_missing:
  test.succeed_with_changes:
    - creates:
      - {{ tmp }}/exists
      - {{ tmp }}/missing
