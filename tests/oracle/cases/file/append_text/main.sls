a:
  file.append:
    - name: @ROOT@/work/f.conf
    - text:
      - line two
      - line three
