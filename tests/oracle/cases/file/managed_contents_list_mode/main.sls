conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - user: root
    - group: root
    - mode: 640
    - contents:
      - "[main]"
      - key = 1
