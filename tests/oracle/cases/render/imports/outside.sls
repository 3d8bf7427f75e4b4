{% from "../../etc/passwd" import x %}
a:
  test.nop
