ini1:
  ini.options_present:
    - name: '@ROOT@/work/a.ini'
    - sections:
        top1: v2
        top2: n
        sec1:
          k1: b
          k2: new
          k4: 4
        sec3:
          z: 9
new file:
  ini.options_present:
    - name: '@ROOT@/work/new.ini'
    - sections:
        s1:
          k: v
          flag: True
empty:
  ini.options_present:
    - name: '@ROOT@/work/empty.ini'
