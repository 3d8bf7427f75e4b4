hosts-block:
  file.blockreplace:
    - name: @ROOT@/work/hosts
    - marker_start: "# START accumulated"
    - marker_end: "# END accumulated"
    - content: base line
    - append_if_not_found: True
acc-one:
  file.accumulated:
    - name: my-acc
    - filename: @ROOT@/work/hosts
    - text: 10.0.0.1 one
    - require_in:
      - file: hosts-block
acc-two:
  file.accumulated:
    - name: my-acc
    - filename: @ROOT@/work/hosts
    - text:
      - 10.0.0.2 two
      - 10.0.0.3 three
    - require_in:
      - file: hosts-block
