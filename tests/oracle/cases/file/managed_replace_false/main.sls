conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: new content
    - replace: False
    - mode: '0600'
new:
  file.managed:
    - name: @ROOT@/work/b.conf
    - contents: new content
    - replace: False
