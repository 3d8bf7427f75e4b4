ok:
  file.managed:
    - name: @ROOT@/work/ok.conf
    - contents: hello
    - check_cmd: grep -q hello
bad:
  file.managed:
    - name: @ROOT@/work/bad.conf
    - contents: hello
    - check_cmd: grep -q nothere
