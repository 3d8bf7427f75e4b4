conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents:
      - line one
      - line two
