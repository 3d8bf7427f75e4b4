# Test mode only: C.UTF-8 is built into glibc, xx_XX is never generated.
C.UTF-8:
  locale.present: []

c.utf8 spelled otherwise:
  locale.present:
    - name: C.utf-8

xx_XX.UTF-8:
  locale.present: []
