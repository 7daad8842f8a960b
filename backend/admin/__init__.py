"""The district's administration pages of the people floor: the policy page and the audit log.

They sit above accounts because they need its roles (`DistrictAdmin`), while accounts records audit events and reads
the policy; with the pages here, audit and policies import nothing of accounts and the three form no cycle.
"""
