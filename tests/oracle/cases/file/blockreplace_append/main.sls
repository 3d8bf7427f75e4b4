b:
  file.blockreplace:
    - name: @ROOT@/work/f.conf
    - marker_start: "# START"
    - marker_end: "# END"
    - content: inside
    - append_if_not_found: True
p:
  file.blockreplace:
    - name: @ROOT@/work/g.conf
    - marker_start: "# START"
    - marker_end: "# END"
    - content: inside
    - prepend_if_not_found: True
n:
  file.blockreplace:
    - name: @ROOT@/work/h.conf
    - marker_start: "# START"
    - marker_end: "# END"
    - content: inside
